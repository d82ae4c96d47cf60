import Foundation
import Logging
import NIOCore
import Synchronization
import TernRemoting
internal import TernSystem

/// The accounts in force, read from `plain_acl.yml` and re-read when the file changes (RocketMQ watches it too).
///
/// ``reloadIfChanged()`` compares the file's modification time with the one last loaded; the owner calls it
/// from a timer, never from an event loop (it reads the file). A file that is missing or broken on reload
/// keeps the previous accounts in force and logs why; at startup it is an error (a broker asked to enforce ACL
/// must not start open).
///
/// Thread-safety: ``current`` may be read from any thread without a lock (every request reads it): the accounts
/// are an immutable snapshot published with one atomic store on reload. A published snapshot is never freed
/// while the file object lives (a reader may still be using the one just replaced, and there is no reclamation
/// scheme); reloads happen only when an operator edits the file, so that is a few kilobytes per edit.
public final class PlainAclFile: Sendable {
    public let path: String
    private let logger: Logger
    private let snapshot: Atomic<Unmanaged<Snapshot>>
    private let state: Mutex<State>

    private final class Snapshot: Sendable {
        let config: PlainAclConfig
        init(_ config: PlainAclConfig) { self.config = config }
    }

    private struct State {
        /// Of the version last read (loaded or found broken); -1 while the file is missing.
        var mtimeMillis: Int64
        var counts = ReloadCounts()
        /// Every snapshot ever published, so none is freed under a reader.
        var published: [Snapshot]
    }

    /// What ``reloadIfChanged()`` did so far (tests wait on these instead of sleeping).
    public struct ReloadCounts: Sendable, Equatable {
        /// Calls that found the file changed (or gone) since the last one.
        public var changes = 0
        /// Changes that took effect.
        public var reloaded = 0
        /// Changes refused: the file missing, unreadable or broken (the previous accounts stay).
        public var rejected = 0
    }

    public init(path: String, logger: Logger) throws(AclConfigError) {
        self.path = path
        self.logger = logger
        let (config, mtime) = try Self.read(path)
        let first = Snapshot(config)
        snapshot = Atomic(Unmanaged.passUnretained(first))
        state = Mutex(State(mtimeMillis: mtime, published: [first]))
        logger.info("ACL loaded", metadata: ["acl.path": "\(path)", "acl.accounts": "\(config.accounts.count)"])
    }

    /// RocketMQ's default location: `$ROCKETMQ_HOME/conf/plain_acl.yml`, or under `home` when ROCKETMQ_HOME is
    /// not set (Tern runs without a RocketMQ installation).
    public static func defaultPath(home: String) -> String {
        let rocketmqHome = ProcessInfo.processInfo.environment["ROCKETMQ_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        return (rocketmqHome ?? home) + "/conf/plain_acl.yml"
    }

    /// The accounts in force (one atomic load, no lock).
    public var current: PlainAclConfig {
        snapshot.load(ordering: .acquiring)._withUnsafeGuaranteedRef { $0.config }
    }

    /// ``PlainAclConfig/validate(remoteAddress:extFields:body:code:requirement:)`` by the accounts in force, read
    /// in place (``current`` returns a copy: three reference counts per request).
    public func validate(remoteAddress: String, extFields: RemotingExtFields, body: ByteBuffer?, code: Int,
                         requirement: () -> AclRequirement) -> AclVerdict {
        snapshot.load(ordering: .acquiring)._withUnsafeGuaranteedRef {
            $0.config.validate(remoteAddress: remoteAddress, extFields: extFields, body: body, code: code,
                               requirement: requirement)
        }
    }

    /// ``PlainAclConfig/authenticate(remoteAddress:extFields:body:)`` by the accounts in force, read in place.
    public func authenticate(remoteAddress: String, extFields: borrowing RemotingExtFields,
                             body: ByteBuffer?) -> AclAuthentication {
        let snapshot = snapshot.load(ordering: .acquiring)
        return snapshot._withUnsafeGuaranteedRef {
            $0.config.authenticate(remoteAddress: remoteAddress, extFields: extFields, body: body)
        }
    }

    public var reloadCounts: ReloadCounts { state.withLock { $0.counts } }

    /// Re-reads the file when its modification time changed. Returns true when new accounts took effect.
    /// Called from one timer at a time (the reload service); the state lock is never held while reading.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        let loaded = state.withLock { $0.mtimeMillis }
        guard let mtime = try? FileSystem.modificationTimeMillis(path) else {
            if loaded != -1 {
                logger.error("ACL file missing; previous accounts stay in force", metadata: ["acl.path": "\(path)"])
                state.withLock {
                    $0.mtimeMillis = -1
                    $0.counts.changes += 1
                    $0.counts.rejected += 1
                }
            }
            return false
        }
        guard mtime != loaded else { return false }
        do {
            let (config, readMtime) = try Self.read(path)
            let next = Snapshot(config)
            state.withLock {
                $0.mtimeMillis = readMtime
                $0.published.append(next)
                $0.counts.changes += 1
                $0.counts.reloaded += 1
            }
            snapshot.store(Unmanaged.passUnretained(next), ordering: .releasing)
            logger.info("ACL reloaded", metadata: ["acl.path": "\(path)", "acl.accounts": "\(config.accounts.count)"])
            return true
        } catch {
            // Remember the broken version so it is reported once, not on every poll.
            state.withLock {
                $0.mtimeMillis = mtime
                $0.counts.changes += 1
                $0.counts.rejected += 1
            }
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
