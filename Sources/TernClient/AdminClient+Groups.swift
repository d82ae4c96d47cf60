import NIOCore
import TernProtocol
import TernRemoting

extension AdminClient {
    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200) on `brokerAddress`, or every master of `cluster`. Returns the brokers.
    @discardableResult
    public func updateSubscriptionGroup(_ config: SubscriptionGroupConfig, cluster: String? = nil,
                                        brokerAddress: String? = nil) async throws -> [String] {
        let targets = try await brokers(cluster: cluster, brokerAddress: brokerAddress)
        for a in targets {
            _ = try await runtime.invoke(a, runtime.makeRequest(code: 200, body: JSONBody.encode(config))).get().expectSuccess(from: a)
        }
        return targets
    }

    /// DELETE_SUBSCRIPTIONGROUP (207); `removeOffset` also deletes the group's committed offsets. Returns the brokers.
    @discardableResult
    public func deleteSubscriptionGroup(_ group: String, removeOffset: Bool = false, cluster: String? = nil,
                                        brokerAddress: String? = nil) async throws -> [String] {
        let targets = try await brokers(cluster: cluster, brokerAddress: brokerAddress)
        var f = RemotingExtFields()
        f["groupName"] = group
        f.set("removeOffset", removeOffset)
        for a in targets {
            _ = try await runtime.invoke(a, runtime.makeRequest(code: 207, extFields: f)).get().expectSuccess(from: a)
        }
        return targets
    }

    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) of one broker.
    public func subscriptionGroups(address: String) async throws -> SubscriptionGroupWrapper {
        let r = try await runtime.invoke(address, runtime.makeRequest(code: RequestCode.getAllSubscriptionGroupConfig)).get()
        return try JSONBody.decode(SubscriptionGroupWrapper.self, from: r.expectSuccess(from: address).body)
    }

    /// INVOKE_BROKER_TO_RESET_OFFSET (222) on every master of `topic`: the group's offsets moved to the first
    /// message stored at or after `timestamp` (ms; -1: the end). Returns each queue's new offset.
    public func resetOffsetByTime(group: String, topic: String, timestamp: Int64, force: Bool = true) async throws -> [(MessageQueue, Int64)] {
        var f = RemotingExtFields()
        f["topic"] = topic
        f["group"] = group
        f.set("timestamp", timestamp)
        f.set("isForce", force)
        var out: [(MessageQueue, Int64)] = []
        for a in try await route(topic: topic).masterAddresses {
            let r = try await runtime.invoke(a, runtime.makeRequest(code: 222, extFields: f)).get().expectSuccess(from: a)
            out += try ResetOffsetBody.decode(from: r.body).offsetTable.map { ($0.queue, $0.offset) }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    private func brokers(cluster: String?, brokerAddress: String?) async throws -> [String] {
        if let brokerAddress { return [brokerAddress] }
        let targets = try await masterAddresses(cluster: cluster)
        guard !targets.isEmpty else { throw ClientError.invalidArgument("no master broker") }
        return targets
    }
}
