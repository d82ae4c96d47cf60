import NIOCore
import TernProtocol
import TernRemoting

extension AdminClient {
    /// VIEW_BROKER_STATS_DATA (315): one stats item of a broker (`TOPIC_PUT_NUMS` / topic, `GROUP_GET_NUMS` /
    /// `topic@group`, …); nil when the broker has no such item (it answers SYSTEM_ERROR, as Java does).
    public func brokerStatsData(address: String, statsName: String, statsKey: String) async throws -> BrokerStatsDataBody? {
        var f = RemotingExtFields()
        f["statsName"] = statsName
        f["statsKey"] = statsKey
        let r = try await runtime.invoke(address, runtime.makeRequest(code: 315, extFields: f)).get()
        guard r.code == ResponseCode.success else { return nil }
        return try BrokerStatsDataBody.decode(from: r.body)
    }

    /// GET_BROKER_CONSUME_STATS (317): every subscription group's progress on one broker (mqadmin brokerConsumeStats).
    public func brokerConsumeStats(address: String, isOrder: Bool = false) async throws -> ConsumeStatsListBody {
        var f = RemotingExtFields()
        f.set("isOrder", isOrder)
        let r = try await runtime.invoke(address, runtime.makeRequest(code: 317, extFields: f)).get().expectSuccess(from: address)
        return try ConsumeStatsListBody.decode(from: r.body)
    }
}
