import TernRemoting
import TernSecurity

/// ACL on the name server (beyond RocketMQ 4, whose name server is open): the requests that change routes —
/// a broker registering or unregistering, a topic deleted (and a config update) — need a request signed by an admin account of the
/// `plain_acl.yml` (or a white address). Without it anyone could register as `broker-a` and point routes at
/// another address. Route lookups stay open, as clients send them before they know any broker.
enum NameServerAcl {
    static let protectedCodes: Set<Int> = [
        RequestCode.registerBroker, RequestCode.unregisterBroker, NameServerRequestCode.deleteTopicInNamesrv,
        NameServerRequestCode.updateNamesrvConfig,
    ]

    /// nil when `request` may be processed; otherwise the NO_PERMISSION remark.
    static func refusal(_ acl: PlainAclFile, _ request: RemotingCommand, remoteAddress: String) -> String? {
        guard protectedCodes.contains(request.code) else { return nil }
        // The accounts in force read in place (``PlainAclFile/current`` would copy them).
        let verdict = acl.validate(remoteAddress: remoteAddress, extFields: request.extFields,
                                   body: request.body, code: request.code) { AclRequirement(needsAdmin: true) }
        if case .denied(let reason) = verdict { return reason }
        return nil
    }
}
