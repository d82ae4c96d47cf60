import Foundation
import Synchronization
import Logging
import NIOCore
import TernProtocol
import TernRemoting
import TernStorage
import TernSystem
import TernTransport

/// SET_FLOW_LIMIT / GET_FLOW_LIMITS (Tern's codes 9110 / 9111, `tern admin setRateLimit` / `flowLimits`):
/// limits change at runtime, take effect on the next request, and are kept in `<store>/config/flow.json`,
/// which is applied over broker.conf at the next start.
final class FlowAdminProcessor: BrokerProcessor {
    let context: BrokerContext
    var flow: FlowControl { context.flow }
    let path: String
    let flush: LiveFlushSettings

    init(context: BrokerContext) {
        self.context = context
        path = context.config.storePathRootDir + "/config/flow.json"
        flush = LiveFlushSettings(store: context.store, storeRoot: context.config.storePathRootDir)
        loadSaved()
        flush.loadSaved(logger: context.logger)
    }

    /// UPDATE_BROKER_CONFIG (mqadmin updateBrokerConfig): only the broker.conf keys that can change live.
    static let updateBrokerConfig = 25
    static let liveConfigKeys: [String: FlowLimitKind] = [
        "defaultTopicRateLimit": .defaultTopicRate, "sendBackRateLimit": .defaultSendBackRate,
        "defaultGroupPullRateLimit": .defaultPullRate,
    ]

    var codes: [Int] { [FlowRequestCode.setFlowLimit, FlowRequestCode.getFlowLimits, Self.updateBrokerConfig] }

    func shutdown() { flow.shutdown() }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        if request.code == FlowRequestCode.getFlowLimits {
            var body = limits()
            body.fastFailures = flow.fastFailures.load(ordering: .relaxed)
            body.rateLimited = flow.rateLimited.load(ordering: .relaxed)
            body.duplicatesAnswered = flow.duplicatesAnswered.load(ordering: .relaxed)
            return responder.respond(code: ResponseCode.success, body: JSONBody.encode(body))
        }
        if request.code == Self.updateBrokerConfig { return updateBrokerConfig(request, responder) }
        let f = request.extFields
        guard let kind = f["kind"].flatMap(FlowLimitKind.init(rawValue:)) else {
            return responder.respond(code: ResponseCode.systemError, remark:
                "SET_FLOW_LIMIT needs kind, one of \(FlowLimitKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let name = f["name"]
        if kind.isNamed, name?.isEmpty ?? true {
            return responder.respond(code: ResponseCode.systemError, remark: "\(kind.rawValue) needs a name (topic or group)")
        }
        guard let raw = f["value"], let value = Double(raw), value >= 0, value.isFinite,
              kind != .dedupWindow || value <= Double(FlowConfig.maxDedupWindowSeconds) else {
            return responder.respond(code: ResponseCode.systemError, remark: "bad value \(f["value"] ?? "(none)") for \(kind.rawValue)")
        }
        apply(kind, name: name, value: value)
        do {
            try save()
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "limit applied but not saved: \(error)")
        }
        context.logger.info("flow limit changed", metadata: ["kind": "\(kind.rawValue)", "name": "\(name ?? "-")", "value": "\(value)"])
        responder.respond(code: ResponseCode.success)
    }

    /// The body is Java's properties text; every key must be live-changeable and every value valid, else
    /// nothing changes. Flow keys are applied like SET_FLOW_LIMIT (kept in flow.json), flush keys by the store.
    private func updateBrokerConfig(_ request: RemotingCommand, _ responder: RemotingResponder) {
        var changes: [(FlowLimitKind, Double)] = []
        var flushChanges: [(key: String, value: String)] = []
        for line in String(buffer: request.body ?? ByteBuffer()).split(whereSeparator: \.isNewline) {
            guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let raw = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if LiveFlushSettings.keys.contains(key) {
                flushChanges.append((key, raw))
                continue
            }
            guard let kind = Self.liveConfigKeys[key] else {
                let live = Set(Self.liveConfigKeys.keys).union(LiveFlushSettings.keys).sorted()
                return responder.respond(code: ResponseCode.systemError, remark:
                    "\(key) cannot change at runtime; these can: \(live.joined(separator: ", "))")
            }
            guard let value = Double(raw), value >= 0, value.isFinite else {
                return responder.respond(code: ResponseCode.systemError, remark: "bad value \(raw) for \(key)")
            }
            changes.append((kind, value))
        }
        let flushSettings: AsyncFlushSettings
        do { flushSettings = try flush.validated(flushChanges) } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "\(error)")
        }
        for (kind, value) in changes { apply(kind, name: nil, value: value) }
        do {
            try save()
            if !flushChanges.isEmpty { try flush.apply(flushSettings) }
        } catch {
            return responder.respond(code: ResponseCode.systemError, remark: "config applied but not saved: \(error)")
        }
        context.logger.info("broker config updated", metadata: ["keys": "\(changes.count + flushChanges.count)"])
        responder.respond(code: ResponseCode.success)
    }

    private func apply(_ kind: FlowLimitKind, name: String?, value: Double) {
        switch kind {
        case .topicRate: flow.topicLimiter.setRate(value, for: name)
        case .defaultTopicRate: flow.topicLimiter.setRate(value, for: nil)
        case .sendBackRate: flow.sendBackLimiter.setRate(value, for: name)
        case .defaultSendBackRate: flow.sendBackLimiter.setRate(value, for: nil)
        case .pullRate: flow.pullLimiter.setRate(value, for: name)
        case .defaultPullRate: flow.pullLimiter.setRate(value, for: nil)
        case .dedupWindow: flow.dedup.setWindow(seconds: Int64(value), topic: name ?? "")
        }
    }

    func limits() -> FlowLimitsBody {
        let t = flow.topicLimiter.snapshot, s = flow.sendBackLimiter.snapshot, p = flow.pullLimiter.snapshot
        return FlowLimitsBody(defaultTopicRateLimit: t.defaultRate, topicRateLimits: t.rates,
                              sendBackRateLimit: s.defaultRate, groupSendBackRateLimits: s.rates,
                              defaultGroupPullRateLimit: p.defaultRate, groupPullRateLimits: p.rates,
                              dedupWindowSeconds: flow.dedup.windowsSeconds)
    }

    private func save() throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let buffer = JSONBody.encode(limits())
        try FileSystem.writeAtomically(path, Array(buffer.readableBytesView))
    }

    /// Applies the limits saved by earlier runtime changes over the ones from broker.conf.
    private func loadSaved() {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        do {
            let saved = try JSONBody.decode(FlowLimitsBody.self, from: ByteBuffer(bytes: data))
            flow.topicLimiter.setRate(saved.defaultTopicRateLimit, for: nil)
            for (n, r) in saved.topicRateLimits { flow.topicLimiter.setRate(r, for: n) }
            flow.sendBackLimiter.setRate(saved.sendBackRateLimit, for: nil)
            for (n, r) in saved.groupSendBackRateLimits { flow.sendBackLimiter.setRate(r, for: n) }
            flow.pullLimiter.setRate(saved.defaultGroupPullRateLimit, for: nil)
            for (n, r) in saved.groupPullRateLimits { flow.pullLimiter.setRate(r, for: n) }
            for (t, w) in saved.dedupWindowSeconds { flow.dedup.setWindow(seconds: w, topic: t) }
        } catch {
            context.logger.warning("ignoring unreadable flow limits", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
