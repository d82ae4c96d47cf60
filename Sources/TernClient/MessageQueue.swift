import TernProtocol

/// A topic route with the queue lists clients use: writable queues of brokers that have a master (sending), and
/// readable queues (consuming), both sorted by broker name then queue id, as the RocketMQ clients order them.
public struct TopicRouteInfo: Sendable {
    public let topic: String
    public let data: TopicRouteData
    public let writeQueues: [MessageQueue]
    public let readQueues: [MessageQueue]
    /// The master address of each of `writeQueues`' brokers, by index (looked up once, not per send).
    let writeQueueMasters: [String?]

    public init(topic: String, data: TopicRouteData) {
        self.topic = topic
        self.data = data
        let masters = Set(data.brokerDatas.filter { $0.masterAddress != nil }.map(\.brokerName))
        let queueDatas = data.queueDatas.sorted { $0.brokerName < $1.brokerName }
        var write: [MessageQueue] = []
        var read: [MessageQueue] = []
        if let conf = data.orderTopicConf, !conf.isEmpty {
            // "brokerA:4;brokerB:4" replaces the send queue list (ordered topics).
            for item in conf.split(separator: ";") {
                let parts = item.split(separator: ":")
                guard parts.count == 2, let n = Int(parts[1]) else { continue }
                for q in 0 ..< max(0, n) { write.append(MessageQueue(topic: topic, brokerName: String(parts[0]), queueId: q)) }
            }
        } else {
            for qd in queueDatas where Perm.isWritable(qd.perm) && masters.contains(qd.brokerName) {
                for q in 0 ..< max(0, qd.writeQueueNums) {
                    write.append(MessageQueue(topic: topic, brokerName: qd.brokerName, queueId: q))
                }
            }
        }
        for qd in queueDatas where Perm.isReadable(qd.perm) {
            for q in 0 ..< max(0, qd.readQueueNums) {
                read.append(MessageQueue(topic: topic, brokerName: qd.brokerName, queueId: q))
            }
        }
        writeQueues = write
        readQueues = read
        writeQueueMasters = write.map { queue in data.brokerDatas.first { $0.brokerName == queue.brokerName }?.masterAddress }
    }

    /// Address of the master (broker id 0) of `brokerName`.
    public func masterAddress(of brokerName: String) -> String? {
        data.brokerDatas.first { $0.brokerName == brokerName }?.masterAddress
    }

    /// Master addresses of every broker group in the route, deduplicated, sorted by broker name.
    public var masterAddresses: [String] {
        var seen = Set<String>()
        return data.brokerDatas.sorted { $0.brokerName < $1.brokerName }
            .compactMap(\.masterAddress).filter { seen.insert($0).inserted }
    }
}
