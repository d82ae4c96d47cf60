import Foundation
import Testing
@testable import TernReplication

/// The epoch file: monotonic, durable, and RocketMQ 5's divergence rule.
@Suite struct EpochStoreTests {
    static func e(_ epoch: Int64, _ start: Int64) -> EpochEntry { EpochEntry(epoch: epoch, startOffset: start) }

    @Test func beginIsMonotonicAndDurable() throws {
        let dir = StoreDirectory("epochs")
        defer { dir.cleanup() }
        let epochs = try EpochStore(directory: dir.path)
        #expect(epochs.current == nil)
        try epochs.begin(epoch: 1, at: 0)
        try epochs.begin(epoch: 3, at: 500)
        try epochs.begin(epoch: 3, at: 500)  // a retried call
        #expect(throws: EpochError.goesBack(current: Self.e(3, 500), requested: Self.e(2, 900))) {
            try epochs.begin(epoch: 2, at: 900)
        }
        #expect(throws: EpochError.goesBack(current: Self.e(3, 500), requested: Self.e(4, 499))) {
            try epochs.begin(epoch: 4, at: 499)
        }
        #expect(throws: EpochError.goesBack(current: Self.e(3, 500), requested: Self.e(3, 600))) {
            try epochs.begin(epoch: 3, at: 600)
        }
        try epochs.begin(epoch: 4, at: 500)  // an election without a write between
        let reloaded = try EpochStore(directory: dir.path)
        #expect(reloaded.entries == [Self.e(1, 0), Self.e(3, 500), Self.e(4, 500)])
        #expect(reloaded.current == Self.e(4, 500))
        let text = try String(contentsOfFile: dir.path + "/epochs", encoding: .utf8)
        #expect(text == "tern-epochs 1\n1 0\n3 500\n4 500\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["epochs"])  // no temp left
    }

    @Test func malformedOrNonMonotonicFilesAreRefused() throws {
        let dir = StoreDirectory("epochs-bad")
        defer { dir.cleanup() }
        let path = dir.path + "/epochs"
        try Data("tern-epochs 1\n1 0\nx 5\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: EpochError.malformedFile(path: path, line: 3)) { try EpochStore(directory: dir.path) }
        try Data("tern-epochs 1\n2 0\n1 5\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: EpochError.notMonotonic([Self.e(2, 0), Self.e(1, 5)])) { try EpochStore(directory: dir.path) }
        let epochs = try EpochStore(directory: dir.path + "/none")
        #expect(throws: EpochError.notMonotonic([Self.e(2, 0), Self.e(2, 5)])) { try epochs.adopt([Self.e(2, 0), Self.e(2, 5)]) }
    }

    /// Truth table of the divergence rule (local history, local end, master history → first offset that may differ).
    @Test func divergenceFollowsTheLastCommonEpoch() {
        let d = EpochStore.divergence(_:localMax:_:otherMax:)
        // Same history: nothing differs below the shorter end.
        #expect(d([Self.e(1, 0)], 700, [Self.e(1, 0)], 900) == 700)
        // An old master's unreplicated tail in epoch 1: the new master's epoch 2 began at 600.
        #expect(d([Self.e(1, 0)], 900, [Self.e(1, 0), Self.e(2, 600)], .max) == 600)
        // A slave behind the new master's start: nothing to cut.
        #expect(d([Self.e(1, 0)], 400, [Self.e(1, 0), Self.e(2, 600)], .max) == 400)
        // A replica that led epoch 2 (never seen by the new master of epoch 3, who began at 650 after epoch 1).
        #expect(d([Self.e(1, 0), Self.e(2, 650)], 800, [Self.e(1, 0), Self.e(3, 650)], .max) == 650)
        // Same epoch number, different start: not common; the earlier epoch decides.
        #expect(d([Self.e(1, 0), Self.e(2, 300)], 800, [Self.e(1, 0), Self.e(2, 350)], .max) == 300)
        // History from before any election is epoch 0 on both sides.
        #expect(d([], 900, [Self.e(1, 500)], .max) == 500)
        #expect(d([Self.e(1, 500)], 900, [Self.e(1, 500), Self.e(2, 800)], .max) == 800)
        // Nothing common.
        #expect(d([Self.e(0, 100)], 900, [Self.e(0, 200)], .max) == 0)
    }
}
