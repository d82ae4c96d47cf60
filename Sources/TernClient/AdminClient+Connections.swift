import NIOCore
import TernProtocol
import TernRemoting

extension AdminClient {
    /// GET_CONSUMER_CONNECTION_LIST (203) on every master: the group's online clients (merged) and its
    /// subscriptions. Throws when no broker has the group online (mqadmin consumerConnection).
    public func consumerConnection(group: String) async throws -> ConsumerConnectionBody {
        var f = RemotingExtFields()
        f["consumerGroup"] = group
        var merged: ConsumerConnectionBody?
        for a in try await masterAddresses(cluster: nil) {
            let r = try await runtime.invoke(a, runtime.makeRequest(code: 203, extFields: f)).get()
                .expectSuccess(from: a, allowing: [ResponseCode.consumerNotOnline])
            guard r.code == ResponseCode.success else { continue }
            let body = try JSONBody.decode(ConsumerConnectionBody.self, from: r.body)
            if merged == nil { merged = body } else {
                merged!.connectionSet = Array(Set(merged!.connectionSet).union(body.connectionSet))
                merged!.subscriptionTable.merge(body.subscriptionTable) { a, _ in a }
            }
        }
        guard var merged else { throw ClientError.response(code: ResponseCode.consumerNotOnline, remark: "the consumer group[\(group)] not online", address: "every master") }
        merged.connectionSet.sort { ($0.clientId, $0.clientAddr) < ($1.clientId, $1.clientAddr) }
        return merged
    }

    /// GET_PRODUCER_CONNECTION_LIST (204) on the masters of `topic`: the group's online producers, merged
    /// (mqadmin producerConnection). Throws when no broker has the group.
    public func producerConnection(group: String, topic: String) async throws -> [ConsumerConnectionBody.Connection] {
        var f = RemotingExtFields()
        f["producerGroup"] = group
        var set = Set<ConsumerConnectionBody.Connection>()
        var answered = false
        for a in try await route(topic: topic).masterAddresses {
            let r = try await runtime.invoke(a, runtime.makeRequest(code: 204, extFields: f)).get()
            // A broker the group never sent to answers SYSTEM_ERROR "not exist".
            guard r.code == ResponseCode.success else { continue }
            answered = true
            set.formUnion(try JSONBody.decode(ProducerConnectionBody.self, from: r.body).connectionSet)
        }
        guard answered else { throw ClientError.response(code: ResponseCode.systemError, remark: "the producer group[\(group)] not exist", address: "masters of \(topic)") }
        return set.sorted { ($0.clientId, $0.clientAddr) < ($1.clientId, $1.clientAddr) }
    }

    /// CLONE_GROUP_OFFSET (314) on every master of `topic`: `destGroup` takes `srcGroup`'s committed offsets
    /// (mqadmin cloneGroupOffset). `offline`: copy even topics an online `srcGroup` no longer subscribes to.
    /// Returns the brokers.
    @discardableResult
    public func cloneGroupOffset(srcGroup: String, destGroup: String, topic: String, offline: Bool = false) async throws -> [String] {
        var f = RemotingExtFields()
        f["srcGroup"] = srcGroup
        f["destGroup"] = destGroup
        f["topic"] = topic
        f.set("offline", offline)
        let targets = try await route(topic: topic).masterAddresses
        for a in targets {
            _ = try await runtime.invoke(a, runtime.makeRequest(code: 314, extFields: f)).get().expectSuccess(from: a)
        }
        return targets
    }
}

extension AdminClient {
    /// GET_CONSUMER_RUNNING_INFO (307), relayed by a master to the consumer `clientId` of `group`: the client's
    /// own `ConsumerRunningInfo` body, as its language's client writes it (mqadmin consumerStatus).
    public func consumerRunningInfo(group: String, clientId: String) async throws -> String {
        var f = RemotingExtFields()
        f["consumerGroup"] = group
        f["clientId"] = clientId
        f.set("jstackEnable", false)
        var last: any Error = ClientError.invalidArgument("no master broker")
        for a in try await masterAddresses(cluster: nil) {
            do {
                let r = try await runtime.invoke(a, runtime.makeRequest(code: 307, extFields: f), timeout: .seconds(15)).get()
                return String(buffer: try r.expectSuccess(from: a).body ?? ByteBuffer())
            } catch { last = error }
        }
        throw last
    }
}
