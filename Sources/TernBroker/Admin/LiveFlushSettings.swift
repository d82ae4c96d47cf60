import Foundation
import Logging
import TernStorage
import TernSystem

/// The async-flush keys UPDATE_BROKER_CONFIG changes without a restart (RocketMQ's flush thread re-reads them
/// every round too): the store's flush thread takes them at its next round, appends never see them.
///
/// Kept in `<store>/config/flush.properties` (properties text, next to flow.json which holds the live flow keys)
/// and applied over broker.conf when the broker starts. Values are checked with broker.conf's own rules
/// (`BrokerConfig.set`), so the file, broker.conf and the admin command accept exactly the same text.
struct LiveFlushSettings {
    static let keys: Set<String> = ["flushIntervalCommitLog", "flushCommitLogLeastPages", "flushCommitLogThoroughInterval"]

    let store: MessageStore
    let path: String

    init(store: MessageStore, storeRoot: String) {
        self.store = store
        path = storeRoot + "/config/flush.properties"
    }

    /// The settings in force with `changes` (keys from `keys`) applied; throws for a bad value, changing nothing.
    func validated(_ changes: [(key: String, value: String)]) throws(BrokerError) -> AsyncFlushSettings {
        var config = BrokerConfig()
        config.asyncFlush = store.asyncFlush
        for change in changes {
            precondition(Self.keys.contains(change.key))
            _ = try config.set(change.key, change.value)
        }
        return config.asyncFlush
    }

    /// Applies `settings` to the running store and keeps them for the next start.
    func apply(_ settings: AsyncFlushSettings) throws {
        store.setAsyncFlush(settings)
        var config = BrokerConfig()
        config.asyncFlush = settings
        let text = config.properties.filter { Self.keys.contains($0.key) }.map { "\($0.key)=\($0.value)\n" }.joined()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileSystem.writeAtomically(path, Array(text.utf8))
    }

    /// Applies the settings saved by earlier runtime changes over broker.conf's.
    func loadSaved(logger: Logger) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        do {
            var config = BrokerConfig()
            config.asyncFlush = store.asyncFlush
            try config.apply(properties: String(decoding: data, as: UTF8.self))
            store.setAsyncFlush(config.asyncFlush)
        } catch {
            logger.warning("ignoring unreadable flush settings", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
