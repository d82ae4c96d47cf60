import NIOCore
import Synchronization

/// Why reading from a connection is paused. Reading resumes only when no reason holds any more, so
/// independent parts (store backpressure, unread responses, flow control) never undo each other's pause.
public struct ReadPauseReason: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The store's indexes lag too far behind the log: stop taking sends until they catch up.
    public static let storeBackpressure = ReadPauseReason(rawValue: 1 << 0)
    /// The peer does not read its responses: stop taking requests until the outbound buffer drains.
    public static let unreadResponses = ReadPauseReason(rawValue: 1 << 1)
    /// The peer's requests keep being refused (ACL): read it more slowly for a while.
    public static let refusals = ReadPauseReason(rawValue: 1 << 2)
}

extension RemotingConnection {
    /// Stops reading requests from this connection for `reason` (NIO `autoRead` off; requests already read
    /// are still answered). Safe from any thread; takes effect on the channel's event loop.
    public func pauseReading(_ reason: ReadPauseReason) { updateReadGate { $0.formUnion(reason) } }

    /// Lifts `reason`; reading resumes when no other reason holds.
    public func resumeReading(_ reason: ReadPauseReason) { updateReadGate { $0.subtract(reason) } }

    /// The reasons currently holding reads (event-loop view; for tests and statistics).
    public var readPauseReasons: ReadPauseReason { ReadPauseReason(rawValue: readGate.load(ordering: .relaxed)) }

    private func updateReadGate(_ change: @escaping @Sendable (inout ReadPauseReason) -> Void) {
        let channel = self.channel
        channel.eventLoop.execute { [self] in
            // Only the event loop writes the gate, so load + store is not a race.
            let before = ReadPauseReason(rawValue: readGate.load(ordering: .relaxed))
            var after = before
            change(&after)
            guard after != before else { return }
            readGate.store(after.rawValue, ordering: .relaxed)
            if before.isEmpty != after.isEmpty {
                channel.setOption(ChannelOptions.autoRead, value: after.isEmpty).whenFailure { _ in }
                if after.isEmpty { channel.read() }
            }
        }
    }
}
