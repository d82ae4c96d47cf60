import Foundation
import Logging
import Synchronization
import TernSystem

/// The accounts in force, read from `plain_acl.yml` and re-read when the file changes (RocketMQ watches it too).
///
/// ``reloadIfChanged()`` compares the file's modification time with the one last loaded; the owner calls it
/// from a timer, never from an event loop (it reads the file). A file that is missing or broken on reload
/// keeps the previous accounts in force and logs why; at startup it is an error (a broker asked to enforce ACL
/// must not start open).
///
/// Thread-safety: ``current`` may be read from any thread (one lock per read).
public final class PlainAclFile: Sendable {
    public let path: String
    private let logger: Logger
    private let state: Mutex<(config: PlainAclConfig, mtimeMillis: Int64)>

    public init(path: String, logger: Logger) throws(AclConfigError) {
        self.path = path
        self.logger = logger
        let (config, mtime) = try Self.read(path)
        state = Mutex((config, mtime))
        logger.info("ACL loaded", metadata: ["acl.path": "\(path)", "acl.accounts": "\(config.accounts.count)"])
    }

    /// RocketMQ's default location: `$ROCKETMQ_HOME/conf/plain_acl.yml`, or under `home` when ROCKETMQ_HOME is
    /// not set (Tern runs without a RocketMQ installation).
    public static func defaultPath(home: String) -> String {
        let rocketmqHome = ProcessInfo.processInfo.environment["ROCKETMQ_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        return (rocketmqHome ?? home) + "/conf/plain_acl.yml"
    }

    /// The accounts in force.
    public var current: PlainAclConfig { state.withLock { $0.config } }

    /// Re-reads the file when its modification time changed. Returns true when new accounts took effect.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        let loaded = state.withLock { $0.mtimeMillis }
        guard let mtime = try? FileSystem.modificationTimeMillis(path) else {
            if loaded != -1 {
                logger.error("ACL file missing; previous accounts stay in force", metadata: ["acl.path": "\(path)"])
                state.withLock { $0.mtimeMillis = -1 }
            }
            return false
        }
        guard mtime != loaded else { return false }
        do {
            let (config, readMtime) = try Self.read(path)
            state.withLock { $0 = (config, readMtime) }
            logger.info("ACL reloaded", metadata: ["acl.path": "\(path)", "acl.accounts": "\(config.accounts.count)"])
            return true
        } catch {
            // Remember the broken version so it is reported once, not on every poll.
            state.withLock { $0.mtimeMillis = mtime }
            logger.error("ACL file not reloaded; previous accounts stay in force",
                         metadata: ["acl.path": "\(path)", "acl.error": "\(error)"])
            return false
        }
    }

    private static func read(_ path: String) throws(AclConfigError) -> (PlainAclConfig, Int64) {
        let bytes: [UInt8], mtime: Int64
        do {
            mtime = try FileSystem.modificationTimeMillis(path)
            bytes = try FileSystem.readFile(path)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        return (try PlainAclConfig(yaml: String(decoding: bytes, as: UTF8.self)), mtime)
    }
}
