import Testing
@testable import TernReplication

/// SYNC_MASTER's wait: group-committed releases, slave availability, timeout.
@Suite struct ReplicationAcksTests {
    @Test func noSlaveIsNotAvailable() async {
        let acks = ReplicationAcks()
        #expect(await acks.waitForAck(100, masterEnd: 100, fallbehindMax: 1 << 20, timeout: .seconds(5)) == .slaveNotAvailable)
    }

    @Test func slaveTooFarBehindIsNotAvailable() async {
        let acks = ReplicationAcks()
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 10)
        #expect(await acks.waitForAck(5_000, masterEnd: 5_000, fallbehindMax: 1_000, timeout: .seconds(5)) == .slaveNotAvailable)
    }

    /// One report releases every waiter at or below it; a waiter above it stays until a later report.
    @Test func oneAckReleasesEveryWaiterBelow() async {
        let acks = ReplicationAcks()
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 0)
        async let low = acks.waitForAck(100, masterEnd: 300, fallbehindMax: 1 << 20, timeout: .seconds(30))
        async let mid = acks.waitForAck(200, masterEnd: 300, fallbehindMax: 1 << 20, timeout: .seconds(30))
        async let high = acks.waitForAck(300, masterEnd: 300, fallbehindMax: 1 << 20, timeout: .seconds(30))
        #expect(await eventually { acks.waitingCount == 3 })
        acks.acknowledged(link: 1, offset: 200)
        #expect(await low == .acked)
        #expect(await mid == .acked)
        #expect(acks.waitingCount == 1)
        acks.connected(link: 2, peer: "b")
        acks.acknowledged(link: 2, offset: 300)
        #expect(await high == .acked)
    }

    @Test func noAckTimesOut() async {
        let acks = ReplicationAcks()
        acks.connected(link: 1, peer: "a")
        acks.acknowledged(link: 1, offset: 0)
        #expect(await acks.waitForAck(100, masterEnd: 100, fallbehindMax: 1 << 20, timeout: .milliseconds(50)) == .timeout)
        #expect(acks.waitingCount == 0)
    }
}
