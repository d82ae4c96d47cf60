import NIOCore
import TernRemoting

/// The ACL's verdict on one request.
public enum AclVerdict: Sendable, Equatable {
    case allowed
    /// Refused; the reason is the remark the client sees (it names the key and resource, never a secret).
    case denied(String)
}

/// Steps 1-4 of ``PlainAclConfig/validate(remoteAddress:extFields:body:code:requirement:)``: who signed.
public enum AclAuthentication: Sendable {
    /// A white address: no signature or permission checks.
    case allowed
    case denied(String)
    /// A valid signature by this account: its permissions are checked next (``AclAccount/authorize(_:code:)``).
    case signed(AclAccount)
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
    public func validate(remoteAddress: String, extFields: borrowing RemotingExtFields, body: ByteBuffer?, code: Int,
                         requirement: () -> AclRequirement) -> AclVerdict {
        switch authenticate(remoteAddress: remoteAddress, extFields: extFields, body: body) {
        case .allowed: return .allowed
        case .denied(let reason): return .denied(reason)
        case .signed(let account): return account.authorize(requirement(), code: code)
        }
    }

    /// Steps 1-4 of ``validate(remoteAddress:extFields:body:code:requirement:)``. Callers that build the
    /// requirement themselves then call ``AclAccount/authorize(_:code:)`` (no closure over the request).
    public func authenticate(remoteAddress: String, extFields: borrowing RemotingExtFields,
                             body: ByteBuffer?) -> AclAuthentication {
        // The address is cut out only when some pattern may match it (most files list none).
        if !globalWhiteRemoteAddresses.isEmpty {
            let ip = Self.ip(remoteAddress)
            if globalWhiteRemoteAddresses.contains(where: { $0.matches(ip) }) { return .allowed }
        }
        let keys = accountIndex.credentialKeys
        let account: AclAccount
        switch accountIndex.account(for: extFields, accessKeyAt: extFields.index(ofKey: 0, in: keys)) {
        case .missing: return .denied("No accessKey is configured")
        case .unknown: return .denied("No acl config for \(extFields[AclSigner.accessKeyKey] ?? "")")
        case .found(let found): account = found
        }
        if account.hasWhiteRemoteAddress, account.whiteRemoteAddress.matches(Self.ip(remoteAddress)) { return .allowed }
        guard AclSigner.isSignatureValid(extFields, signatureAt: extFields.index(ofKey: 1, in: keys), body: body,
                                         key: account.signingKey) else {
            return .denied("Check signature failed for accessKey=\(account.accessKey)")
        }
        return .signed(account)
    }

    /// `remoteAddress` without its port (Java's `lastIndexOf(':')`).
    private static func ip(_ remoteAddress: String) -> String {
        remoteAddress.utf8.lastIndex(of: UInt8(ascii: ":")).map { String(remoteAddress[..<$0]) } ?? remoteAddress
    }
}

extension AclAccount {
    /// Steps 5 and 6 of ``PlainAclConfig/validate(remoteAddress:extFields:body:code:requirement:)`` for a request
    /// this account signed.
    public func authorize(_ needed: AclRequirement, code: Int) -> AclVerdict {
        if needed.first(where: { $0.permission == .pub && AclResource.isTraceTopic($0.name) }) != nil {
            return .allowed
        }
        return check(needed, code: code)
    }

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
