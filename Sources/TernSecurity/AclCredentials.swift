import TernRemoting

/// An account's keys as a client holds them (Java `SessionCredentials`, C++ `set_session_credentials`): every
/// request the client sends is signed with them.
public struct AclCredentials: Sendable, Equatable {
    public var accessKey: String
    public var secretKey: String

    public init(accessKey: String, secretKey: String) {
        self.accessKey = accessKey
        self.secretKey = secretKey
    }

    /// Sets `AccessKey` and `Signature` on `command` (Java `AclClientRPCHook.doBeforeRequest`).
    public func sign(_ command: inout RemotingCommand) {
        AclSigner.sign(&command.extFields, body: command.body, accessKey: accessKey, secretKey: secretKey)
    }

    /// `command` signed.
    public func signed(_ command: RemotingCommand) -> RemotingCommand {
        var command = command
        sign(&command)
        return command
    }
}
