import NIOCore
import TernRemoting

/// The ACL's verdict on one request.
public enum AclVerdict: Sendable, Equatable {
    case allowed
    /// Refused; the reason is the remark the client sees (it names the key and resource, never a secret).
    case denied(String)
}

extension PlainAclConfig {
    /// Java's `PlainPermissionManager.validate`, in its order:
    /// 1. a global white address is allowed outright;
    /// 2. no `AccessKey`, or one not in the file, is refused;
    /// 3. the account's own white address is allowed without signature or permission checks;
    /// 4. the signature must match (`AclSigner`);
    /// 5. publishing to the trace topic is allowed;
    /// 6. an admin code needs an admin account, then each resource needs its permission (listed, else the
    ///    account's default for topics or groups). An admin account with no listed resources may do anything.
    ///
    /// `remoteAddress` is the peer as `ip:port` (the port is dropped as Java's `lastIndexOf(':')` does).
    public func validate(remoteAddress: String, extFields: RemotingExtFields, body: ByteBuffer?, code: Int,
                         requirement: () -> AclRequirement) -> AclVerdict {
        // The address is cut out only when some pattern may match it (most files list none).
        let ip = { remoteAddress.utf8.lastIndex(of: UInt8(ascii: ":")).map { String(remoteAddress[..<$0]) } ?? remoteAddress }
        if !globalWhiteRemoteAddresses.isEmpty {
            let ip = ip()
            if globalWhiteRemoteAddresses.contains(where: { $0.matches(ip) }) { return .allowed }
        }
        // The account is read in place through its entry (a copy per request cost ~200 bytes and retains).
        let credentials = extFields.locate(accountIndex.credentialKeys)
        let entry: AclAccountIndex.Entry
        switch accountIndex.account(for: extFields, accessKeyAt: credentials[0]) {
        case .missing: return .denied("No accessKey is configured")
        case .unknown: return .denied("No acl config for \(extFields[AclSigner.accessKeyKey] ?? "")")
        case .found(let found): entry = found
        }
        // A pattern match, not `!= .none`: building and destroying the `.none` to compare with showed per request.
        if case .none = entry.account.whiteRemoteAddress {} else if entry.account.whiteRemoteAddress.matches(ip()) {
            return .allowed
        }
        guard AclSigner.isSignatureValid(extFields, signatureAt: credentials[1], body: body,
                                         key: entry.account.signingKey) else {
            return .denied("Check signature failed for accessKey=\(entry.account.accessKey)")
        }
        let needed = requirement()
        if needed.first(where: { $0.permission == .pub && AclResource.isTraceTopic($0.name) }) != nil {
            return .allowed
        }
        return entry.account.check(needed, code: code)
    }
}

extension AclAccount {
    /// Step 6 of ``PlainAclConfig/validate(remoteAddress:extFields:body:code:requirement:)``.
    public func check(_ needed: AclRequirement, code: Int) -> AclVerdict {
        if needed.needsAdmin && !isAdmin {
            return .denied("Need admin permission for request code=\(code), but accessKey=\(accessKey) is not")
        }
        if resourcePermissions.isEmpty && isAdmin { return .allowed }
        let refused = needed.first { name, permission in
            let owned = resourcePermissions[name]
                ?? (AclResource.isRetryTopic(name) ? defaultGroupPermission : defaultTopicPermission)
            return !owned.allows(permission)
        }
        guard let (name, permission) = refused else { return .allowed }
        let what = AclResource.isRetryTopic(name) ? "group \(name.dropFirst(AclResource.retryPrefix.count))" : "topic \(name)"
        return .denied("No \(permission) permission for \(what), accessKey=\(accessKey)")
    }
}
