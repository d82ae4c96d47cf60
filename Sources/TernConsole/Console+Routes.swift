import Foundation
import Hummingbird
import TernClient
import TernProtocol

extension Console {
    func registerReads(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ -> Response in
            await self.page(.cluster, "Cluster") {
                let (info, runtime) = try await self.reader.cluster()
                return ClusterPages.cluster(info, runtime: runtime)
            }
        }
        router.get("/replication") { _, _ -> Response in
            await self.page(.replication, "Replication") {
                let (info, runtime) = try await self.reader.cluster()
                return ClusterPages.replication(info, runtime: runtime)
            }
        }
        router.get("/topics") { request, _ -> Response in
            await self.page(.topics, "Topics") { try await self.topicList(Self.query(request)) }
        }
        router.get("/topic") { request, _ -> Response in
            let name = Self.query(request)["name"] ?? ""
            return await self.page(.topics, "Topic \(name)") { try await self.topicPage(name, notice: nil) }
        }
        router.get("/groups") { request, _ -> Response in
            await self.page(.groups, "Consumer groups") {
                let q = Self.query(request)
                let filter = q["filter"] ?? "", page = ConsoleRequest.page(q["page"])
                let all = try await self.reader.groupNames().filter {
                    !GroupPages.isInternal($0) && (filter.isEmpty || $0.localizedCaseInsensitiveContains(filter))
                }
                let shown = Array(all.dropFirst(page * GroupPages.pageSize).prefix(GroupPages.pageSize))
                return GroupPages.list(await self.reader.groupSummaries(shown), filter: filter, page: page, total: all.count)
            }
        }
        router.get("/group") { request, _ -> Response in
            let name = Self.query(request)["name"] ?? ""
            return await self.page(.groups, "Consumer group \(name)") { try await self.groupPage(name, notice: nil, failed: false) }
        }
        router.get("/messages") { request, _ -> Response in
            let q = MessageSearch(Self.query(request))
            do { return Self.html(MessagePages.search(q, results: try await self.reader.search(q))) } catch {
                return Self.html(MessagePages.search(q, results: nil, error: "\(error)"), status: .badGateway)
            }
        }
        router.get("/message") { request, _ -> Response in
            let q = MessageSearch(Self.query(request))
            return await self.page(.messages, "Message \(q.id)") {
                guard let m = try await self.reader.search(q)?.first else { throw ClientError.invalidArgument("no message \(q.id)") }
                return MessagePages.message(m)
            }
        }
        router.get("/trace") { request, _ -> Response in
            let id = Self.query(request)["id"] ?? ""
            guard !id.isEmpty else { return Self.html(MessagePages.trace("", records: [])) }
            do { return Self.html(MessagePages.trace(id, records: try await self.reader.admin.trace(msgId: id))) } catch ClientError.topicNotFound(let t) {
                return Self.html(MessagePages.trace(id, records: [], error: "no trace topic \(t) yet: no client has sent a trace"))
            } catch {
                return Self.html(MessagePages.trace(id, records: [], error: "\(error)"), status: .badGateway)
            }
        }
        router.get("/dlq") { request, _ -> Response in
            if let group = Self.query(request)["group"], !group.isEmpty {
                return await self.page(.deadLetters, "Dead letters of \(group)") {
                    OperationPages.deadLetters(group, try await self.reader.admin.deadLetters(group: group, all: true))
                }
            }
            return await self.page(.deadLetters, "Dead letters") { OperationPages.deadLetterList(try await self.reader.deadLetterGroups()) }
        }
        router.get("/flow") { _, _ -> Response in
            await self.page(.flow, "Flow limits") { OperationPages.flow(try await self.reader.admin.flowLimits()) }
        }
    }

    func topicList(_ q: [String: String], notice: String? = nil) async throws -> String {
        let filter = q["filter"] ?? "", showInternal = q["internal"] == "1", page = ConsoleRequest.page(q["page"])
        let names = try await reader.topicNames(filter: filter, showInternal: showInternal)
        let shown = Array(names.dropFirst(page * TopicPages.pageSize).prefix(TopicPages.pageSize))
        return TopicPages.list(await reader.topicSummaries(shown), filter: filter, showInternal: showInternal, page: page,
                               total: names.count, notice: notice)
    }

    func topicPage(_ name: String, notice: String?) async throws -> String {
        let t = try await reader.topic(name)
        return TopicPages.topic(name, queues: t.queues, puts: t.puts, route: t.route, notice: notice)
    }

    /// A topic just saved: the broker registers it with the name servers right after, so its route may take a
    /// moment to appear; retried for a bounded time, then the last failure is shown.
    func newTopicPage(_ name: String, notice: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            do { return try await topicPage(name, notice: notice) } catch {
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func groupPage(_ name: String, notice: String?, failed: Bool) async throws -> String {
        let (progress, connection, reason) = try await reader.group(name)
        return GroupPages.group(name, progress: progress, connection: connection, offlineReason: reason, notice: notice,
                                noticeIsError: failed)
    }

    func registerWrites(on router: Router<BasicRequestContext>) {
        router.post("/topic/update") { request, _ -> Response in
            var request = request
            let f = try await Self.form(&request)
            let name = f["name"] ?? ""
            return await self.write(request, { admin in
                guard !name.isEmpty, let r = Int(f["readQueues"] ?? ""), let w = Int(f["writeQueues"] ?? ""),
                      let perm = Int(f["perm"] ?? "6") else {
                    throw ClientError.invalidArgument("a topic needs a name and numbers of read and write queues")
                }
                let brokers = try await admin.createTopic(name, readQueues: r, writeQueues: w, perm: perm)
                return "Topic \(name) saved on \(brokers.joined(separator: ", "))."
            }, render: { notice, failed in
                failed ? try await self.topicList([:], notice: notice) : try await self.newTopicPage(name, notice: notice)
            })
        }
        router.post("/topic/delete") { request, _ -> Response in
            var request = request
            let name = try await Self.form(&request)["name"] ?? ""
            return await self.write(request, { admin in
                let brokers = try await admin.deleteTopic(name)
                return "Topic \(name) deleted on \(brokers.joined(separator: ", ")) and the name servers."
            }, render: { notice, _ in try await self.topicList([:], notice: notice) })
        }
        router.post("/group/reset") { request, _ -> Response in
            var request = request
            let f = try await Self.form(&request)
            let group = f["group"] ?? "", topic = f["topic"] ?? ""
            return await self.write(request, { admin in
                guard let time = ConsoleRequest.timestamp(f["time"] ?? "") else {
                    throw ClientError.invalidArgument("time: expected milliseconds or yyyy-MM-ddTHH:mm (UTC)")
                }
                let queues = try await admin.resetOffsetByTime(group: group, topic: topic, timestamp: time)
                return "Offsets of \(group) on \(topic) reset: " + queues.map { "\($0.0.brokerName)#\($0.0.queueId) → \($0.1)" }.joined(separator: ", ")
            }, render: { notice, failed in try await self.groupPage(group, notice: notice, failed: failed) })
        }
        router.post("/dlq/resend") { request, _ -> Response in
            var request = request
            let f = try await Self.form(&request)
            let group = f["group"] ?? "", msgId = f["msgId"].flatMap { $0.isEmpty ? nil : $0 }
            return await self.write(request, { admin in
                let (resent, skipped) = try await admin.resendDeadLetters(group: group, msgId: msgId)
                return "Re-pushed \(resent) dead letter(s) of \(group), skipped \(skipped)."
            }, render: { notice, failed in
                OperationPages.deadLetters(group, try await self.reader.admin.deadLetters(group: group, all: true), notice: notice,
                                           noticeIsError: failed)
            })
        }
        router.post("/flow/set") { request, _ -> Response in
            var request = request
            let f = try await Self.form(&request)
            return await self.write(request, { admin in
                guard let kind = FlowLimitKind(rawValue: f["kind"] ?? ""), let value = Double(f["value"] ?? "") else {
                    throw ClientError.invalidArgument("a flow limit needs a kind and a number")
                }
                let name = f["name"].flatMap { $0.isEmpty ? nil : $0 }
                guard !kind.isNamed || name != nil else { throw ClientError.invalidArgument("\(kind.rawValue) needs a topic or group") }
                let brokers = try await admin.setFlowLimit(kind, name: kind.isNamed ? name : nil, value: value)
                return "\(kind.rawValue) \(name ?? "") = \(value) on \(brokers.joined(separator: ", "))."
            }, render: { notice, failed in
                OperationPages.flow(try await self.reader.admin.flowLimits(), notice: notice, noticeIsError: failed)
            })
        }
    }
}
