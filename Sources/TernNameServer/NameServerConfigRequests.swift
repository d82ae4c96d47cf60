import Foundation
import NIOCore
import TernRemoting
import TernTransport

extension NameServerRequestCode {
    static let updateNamesrvConfig = 318
    static let getNamesrvConfig = 319
}

extension NameServerConfig {
    /// GET_NAMESRV_CONFIG's body, as Java's `Configuration.getAllConfigsFormatString`: `key=value` lines (sorted;
    /// Java's are in hash order) of the NamesrvConfig / NettyServerConfig keys that Tern has, with the values in
    /// force. `orderMessageEnable` and `clusterTest` are false because Tern implements neither.
    public var propertiesText: String {
        let properties: [(String, String)] = [
            ("listenPort", "\(listenPort)"), ("serverChannelMaxIdleTimeSeconds", "\(idleTimeoutSeconds)"),
            ("orderMessageEnable", "false"), ("clusterTest", "false"),
            ("tls.server.mode", tls.server.mode.rawValue),
        ]
        return properties.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)\n" }.joined()
    }
}

extension NameServerProcessor {
    /// UPDATE_NAMESRV_CONFIG: Java refuses the two path keys with NO_PERMISSION and stores any other key; Tern's
    /// name-server settings are fixed at start, so every key is refused by name (nothing silently ignored). An
    /// empty body succeeds, as in Java.
    func updateConfig(_ request: RemotingCommand) -> RemotingCommand {
        let text = request.body.map { String(buffer: $0) } ?? ""
        let keys = text.split(whereSeparator: \.isNewline).compactMap { line -> Substring? in
            guard !line.hasPrefix("#"), let eq = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
            return line[..<eq]
        }.map { $0.trimmingCharacters(in: .whitespaces) }
        if keys.contains(where: { $0 == "kvConfigPath" || $0 == "configStorePath" }) {
            return RemotingCommand(code: ResponseCode.noPermission, flag: .response, remark: "Can not update config path")
        }
        guard let key = keys.first else { return RemotingCommand(code: ResponseCode.success, flag: .response) }
        return RemotingCommand(code: ResponseCode.systemError, flag: .response,
                               remark: "\(key) cannot change at runtime: the name server's settings are fixed at start")
    }
}
