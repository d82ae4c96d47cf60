import NIOCore
import TernProtocol
import TernRemoting

/// A topic's put figures on one broker (GET_TOPIC_STATS_INFO answer fields added by Tern).
public struct TopicPutStats: Sendable, Equatable, Codable {
    public var brokerAddress: String
    public var total: Int64
    public var lastPeriod: Int64
    public var tps: Double
}

/// A group's get figures on one broker (GET_CONSUME_STATS answer fields added by Tern).
public struct GroupGetStats: Sendable, Equatable, Codable {
    public var brokerAddress: String
    public var total: Int64
    public var lastPeriod: Int64
    public var tps: Double
}

extension AdminClient {
    /// Tern's SET_FLOW_LIMIT (9110) on `brokerAddress`, or every master of `cluster` (every cluster when both
    /// are nil). Returns the brokers that applied it.
    @discardableResult
    public func setFlowLimit(_ kind: FlowLimitKind, name: String?, value: Double, cluster: String? = nil,
                             brokerAddress: String? = nil) async throws -> [String] {
        let targets = try await targets(cluster: cluster, brokerAddress: brokerAddress)
        var f = RemotingExtFields()
        f["kind"] = kind.rawValue
        if let name { f["name"] = name }
        f["value"] = String(value)
        for address in targets {
            _ = try await runtime.invoke(address, runtime.makeRequest(code: FlowRequestCode.setFlowLimit, extFields: f))
                .get().expectSuccess(from: address)
        }
        return targets
    }

    /// Tern's GET_FLOW_LIMITS (9111) from each target broker.
    public func flowLimits(cluster: String? = nil, brokerAddress: String? = nil) async throws -> [String: FlowLimitsBody] {
        var out: [String: FlowLimitsBody] = [:]
        for address in try await targets(cluster: cluster, brokerAddress: brokerAddress) {
            let r = try await runtime.invoke(address, runtime.makeRequest(code: FlowRequestCode.getFlowLimits)).get()
                .expectSuccess(from: address)
            out[address] = try JSONBody.decode(FlowLimitsBody.self, from: r.body)
        }
        return out
    }

    /// Put counts and TPS of `topic` on each master in its route.
    public func topicPutStats(topic: String) async throws -> [TopicPutStats] {
        var out: [TopicPutStats] = []
        for address in try await route(topic: topic).masterAddresses {
            var f = RemotingExtFields()
            f["topic"] = topic
            let r = try await runtime.invoke(address, runtime.makeRequest(code: 202, extFields: f)).get().expectSuccess(from: address)
            let x = r.extFields
            out.append(TopicPutStats(brokerAddress: address, total: x.int64("putTotal") ?? 0,
                                     lastPeriod: x.int64("putLastPeriod") ?? 0, tps: Double(x["putTps"] ?? "") ?? 0))
        }
        return out
    }

    /// Messages pulled by `group` (optionally from one topic) on each master.
    public func groupGetStats(group: String, topic: String? = nil) async throws -> [GroupGetStats] {
        let targets: [String]
        if let topic { targets = try await route(topic: topic).masterAddresses } else { targets = try await masterAddresses(cluster: nil) }
        var out: [GroupGetStats] = []
        for address in targets {
            var f = RemotingExtFields()
            f["consumerGroup"] = group
            if let topic { f["topic"] = topic }
            let r = try await runtime.invoke(address, runtime.makeRequest(code: 208, extFields: f)).get()
            guard r.code == ResponseCode.success else { continue }
            let x = r.extFields
            out.append(GroupGetStats(brokerAddress: address, total: x.int64("getTotal") ?? 0,
                                     lastPeriod: x.int64("getLastPeriod") ?? 0, tps: Double(x["getTps"] ?? "") ?? 0))
        }
        return out
    }

    private func targets(cluster: String?, brokerAddress: String?) async throws -> [String] {
        if let brokerAddress { return [brokerAddress] }
        return try await masterAddresses(cluster: cluster)
    }
}
