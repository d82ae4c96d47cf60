import TernRemoting

/// An account's keys as a client holds them (Java `SessionCredentials`, C++ `set_session_credentials`): every
/// request the client sends is signed with them.
///
/// The secret's HMAC key state is computed once, here, not per request.
public struct AclCredentials: Sendable, Equatable {
    public var accessKey: String
    public var secretKey: String {
        get { signingKey.secret }
        set { signingKey = AclSigningKey(newValue) }
    }
    private var signingKey: AclSigningKey

    public init(accessKey: String, secretKey: String) {
        self.accessKey = accessKey
        signingKey = AclSigningKey(secretKey)
    }

    /// Sets `AccessKey` and `Signature` on `command` (Java `AclClientRPCHook.doBeforeRequest`).
    public func sign(_ command: inout RemotingCommand) {
        AclSigner.sign(&command.extFields, body: command.body, accessKey: accessKey, key: signingKey)
    }

    /// `command` signed.
    public func signed(_ command: RemotingCommand) -> RemotingCommand {
        var command = command
        sign(&command)
        return command
    }
}
