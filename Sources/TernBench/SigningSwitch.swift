import Dispatch
import Foundation
import Synchronization
import TernClient

/// `tern-bench produce --toggle-signing`: each SIGUSR1 switches the producer's runtime between signing every
/// request with the ACL keys and not signing (``ClientRuntime/setSigning(_:)``), on the same connection, so the
/// broker serves both modes on one event loop. `tools/bench-toggle acl` signals it once a second and reads the
/// broker's CPU at each switch, so signed and unsigned sends are compared on one broker process (started with
/// `aclBenchmarkUnsignedEnable=true`, which admits the unsigned ones).
///
/// Each switch prints one JSON line to stderr, `{"signing":B,"completed":N}`: the mode from now on and the
/// answered sends so far, which split the run's sends into windows.
final class SigningSwitch: Sendable {
    let runtime: ClientRuntime
    private let signing = Atomic<Bool>(true)

    init(runtime: ClientRuntime) { self.runtime = runtime }

    /// Switches on every SIGUSR1 until the returned source is cancelled.
    func listen(completed: @escaping @Sendable () -> Int) -> any DispatchSourceSignal {
        signal(SIGUSR1, SIG_IGN)  // delivered to the source, not the default action (terminate)
        let source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        source.setEventHandler { [self] in
            let now = !signing.load(ordering: .relaxed)
            signing.store(now, ordering: .relaxed)
            runtime.setSigning(now)
            FileHandle.standardError.write(Data("{\"signing\":\(now),\"completed\":\(completed())}\n".utf8))
        }
        source.resume()
        return source
    }
}
