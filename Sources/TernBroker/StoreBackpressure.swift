import Synchronization
import TernStorage
import TernTransport

/// What backpressure needs of a connection (a `RemotingConnection`; tests use a recorder).
protocol ReadPausable: AnyObject, Sendable {
    func pauseReading(_ reason: ReadPauseReason)
    func resumeReading(_ reason: ReadPauseReason)
}

extension RemotingConnection: ReadPausable {}

/// Appends never sleep: when the indexes lag more than `maxDispatchLagBytes` behind the log, the connection
/// that just sent stops being read (NIO autoRead off) until a dispatch event shows the lag back under the limit.
/// The event loop stays free, and the producer feels the pressure as TCP backpressure.
///
/// No connection stays paused after the lag is gone: `pauseIfLagging` adds the connection and then re-checks the
/// lag; the dispatcher publishes its new offset before it calls subscribers, whose handler checks the lag and then
/// takes the set. Whichever runs second sees the caught-up offset and resumes.
final class StoreBackpressure: Sendable {
    private let store: MessageStore
    private let paused = Mutex<[ObjectIdentifier: any ReadPausable]>([:])
    private let subscription = Mutex<DispatchSubscription?>(nil)

    init(store: MessageStore) {
        self.store = store
        let sub = store.subscribe(name: "send-backpressure") { [weak self] _ in self?.resumeIfCaughtUp() }
        subscription.withLock { $0 = sub }
    }

    /// Called after an append from `connection`.
    func pauseIfLagging(_ connection: any ReadPausable) {
        guard store.isDispatchLagging else { return }
        paused.withLock { $0[ObjectIdentifier(connection)] = connection }
        connection.pauseReading(.storeBackpressure)
        resumeIfCaughtUp()
    }

    /// Connections held right now (tests, statistics).
    var pausedCount: Int { paused.withLock { $0.count } }

    private func resumeIfCaughtUp() {
        guard !store.isDispatchLagging else { return }
        let all = paused.withLock { p in defer { p = [:] }; return Array(p.values) }
        for c in all { c.resumeReading(.storeBackpressure) }
    }

    /// Resumes everyone and stops listening (shutdown).
    func stop() {
        subscription.withLock { $0?.cancel(); $0 = nil }
        let all = paused.withLock { p in defer { p = [:] }; return Array(p.values) }
        for c in all { c.resumeReading(.storeBackpressure) }
    }
}
