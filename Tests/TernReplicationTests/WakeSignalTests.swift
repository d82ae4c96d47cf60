import Testing
@testable import TernReplication

@Suite struct WakeSignalTests {
    @Test func wakeBeforeWaitIsRememberedOnce() async {
        let signal = WakeSignal()
        signal.wake()
        signal.wake()
        await signal.wait()  // returns: the wake-up was pending
        let waiting = Task { await signal.wait() }
        signal.wake()  // either pending or resuming the waiter: the task ends either way
        await waiting.value
    }

    @Test func cancelledWaiterReturns() async {
        let signal = WakeSignal()
        let waiting = Task { await signal.wait() }
        waiting.cancel()
        await waiting.value
        signal.wake()
        await signal.wait()  // a later waiter still gets wake-ups
    }
}
