import Foundation
import TernClient
import TernProtocol

/// What the pages show, fetched with admin requests. Requests that fan out (one per topic, group or broker)
/// run concurrently, at most ``width`` in flight, so a page of 100 topics costs about the slowest few round trips.
struct ConsoleData: Sendable {
    let admin: AdminClient
    /// Admin requests in flight at once for one page.
    static let width = 32

    /// `transform` of every item, in order, at most ``width`` at a time.
    static func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) async -> R) async -> [R] {
        await withTaskGroup(of: (Int, R).self) { group in
            var out = [R?](repeating: nil, count: items.count)
            var next = 0
            while next < min(width, items.count) {
                let i = next
                group.addTask { (i, await transform(items[i])) }
                next += 1
            }
            while let (i, r) = await group.next() {
                out[i] = r
                guard next < items.count else { continue }
                let j = next
                group.addTask { (j, await transform(items[j])) }
                next += 1
            }
            return out.map { $0! }
        }
    }

    /// The cluster table and each registered address's runtime info (unreachable brokers left out).
    func cluster() async throws -> (ClusterInfo, [String: [String: String]]) {
        let info = try await admin.clusterInfo()
        let addresses = Array(Set(info.brokerAddrTable.values.flatMap { $0.brokerAddrs.values })).sorted()
        let admin = admin
        let tables = await Self.concurrentMap(addresses) { a in try? await admin.brokerRuntimeInfo(address: a) }
        var runtime: [String: [String: String]] = [:]
        for (a, t) in zip(addresses, tables) { runtime[a] = t }
        return (info, runtime)
    }

    /// Topic names matching `filter`, internal ones only when asked, sorted.
    func topicNames(filter: String, showInternal: Bool) async throws -> [String] {
        try await admin.topicList().filter {
            (showInternal || !TopicPages.isInternal($0)) && (filter.isEmpty || $0.localizedCaseInsensitiveContains(filter))
        }
    }

    func topicSummaries(_ names: [String]) async -> [TopicSummary] {
        let admin = admin
        return await Self.concurrentMap(names) { name in
            do { return TopicSummary(name: name, queues: try await admin.topicStats(topic: name)) } catch {
                return TopicSummary(name: name, queues: [], error: "\(error)")
            }
        }
    }

    func topic(_ name: String) async throws -> (queues: [QueueStats], puts: [TopicPutStats], route: TopicRouteData) {
        let route = try await admin.route(topic: name)
        async let queues = admin.topicStats(topic: name)
        async let puts = admin.topicPutStats(topic: name)
        return (try await queues, try await puts, route.data)
    }

    /// Every subscription group of every master, sorted.
    func groupNames() async throws -> [String] {
        let admin = admin
        let tables = try await Self.concurrentMap(admin.masterAddresses(cluster: nil)) { a in
            (try? await admin.subscriptionGroups(address: a))?.subscriptionGroupTable.keys.map { $0 } ?? []
        }
        return Array(Set(tables.joined())).sorted()
    }

    /// List rows of `names`: each group's progress (a group no master has offsets for shows no lag).
    func groupSummaries(_ names: [String]) async -> [GroupSummary] {
        let admin = admin
        return await Self.concurrentMap(names) { name in
            guard let progress = try? await admin.consumerProgress(group: name) else {
                return GroupSummary(name: name, topics: [], lag: 0, consumeTps: 0)
            }
            return GroupSummary(name: name, progress: progress)
        }
    }

    /// A group's progress and its online members (nil with the broker's reason when none is online).
    func group(_ name: String) async throws -> (ConsumerProgress, ConsumerConnectionBody?, String?) {
        async let progress = admin.consumerProgress(group: name)
        let connection: ConsumerConnectionBody?, reason: String?
        do { (connection, reason) = (try await admin.consumerConnection(group: name), nil) } catch {
            (connection, reason) = (nil, "\(error)")
        }
        return (try await progress, connection, reason)
    }

    /// Messages for a search; nil when the search names nothing to look for.
    func search(_ q: MessageSearch) async throws -> [ReceivedMessage]? {
        if !q.id.isEmpty {
            // A unique id (UNIQ_KEY) needs the topic; an offset id names its broker and commit-log offset itself.
            if !q.topic.isEmpty {
                let found = try await admin.queryMessages(topic: q.topic, uniqueKey: q.id)
                if !found.isEmpty { return found }
            }
            return [try await admin.viewMessage(offsetId: q.id)]
        }
        if !q.topic.isEmpty, !q.key.isEmpty { return try await admin.queryMessages(topic: q.topic, key: q.key) }
        if !q.topic.isEmpty, let queue = Int(q.queue), let offset = Int64(q.offset) {
            return try await messageAt(topic: q.topic, broker: q.broker, queue: queue, offset: offset)
        }
        return nil
    }

    /// The message at `offset` of one queue (a pull of one message at that offset, committing nothing).
    func messageAt(topic: String, broker: String, queue: Int, offset: Int64) async throws -> [ReceivedMessage] {
        let route = try await admin.route(topic: topic)
        guard let brokerName = broker.isEmpty ? route.readQueues.first?.brokerName : broker else {
            throw ClientError.invalidArgument("topic \(topic) has no readable queue")
        }
        let consumer = PullConsumer(runtime: admin.runtime, group: "TOOLS_CONSUMER")
        let result = try await consumer.pull(queue: MessageQueue(topic: topic, brokerName: brokerName, queueId: queue),
                                             offset: offset, maxNums: 1)
        return Array(result.messages.filter { $0.queueOffset == offset }.prefix(1))
    }

    /// Groups with a `%DLQ%` topic, with each master's range (no message bodies).
    func deadLetterGroups() async throws -> [OperationPages.DeadLetterSummary] {
        let groups = try await admin.topicList().filter { $0.hasPrefix("%DLQ%") }.map { String($0.dropFirst(5)) }
        let admin = admin
        return await Self.concurrentMap(groups) { g in
            do { return .init(group: g, queues: try await admin.deadLetters(group: g, all: true, maxNum: 1)) } catch {
                return .init(group: g, queues: [], error: "\(error)")
            }
        }
    }
}
