import Foundation

/// The target chosen by TERN_FUZZ_TARGET; read once, before any input runs.
let activeTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["TERN_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
        FileHandle.standardError.write(Data("TERN_FUZZ_TARGET must be one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

#if TERN_LIBFUZZER
/// libFuzzer's callback, per input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    activeTarget.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's driver (libclang_rt.fuzzer): parses its flags from argv and calls the callback per input.
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

/// `TERN_FUZZ_TARGET=frame TernFuzz FILE|DIR...`: built by `tools/fuzz` with libFuzzer, the arguments are
/// libFuzzer's; in a normal build it replays every file given (or in a directory given) through the target once.
@main
enum TernFuzzMain {
    static func main() {
        _ = activeTarget
        #if TERN_LIBFUZZER
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
        var count = 0
        for path in CommandLine.arguments.dropFirst() { count += replay(path) }
        print("\(activeTarget.rawValue): replayed \(count) inputs")
        #endif
    }

    private static func replay(_ path: String) -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return 0 }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return names.sorted().reduce(0) { $0 + replay(path + "/" + $1) }
        }
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        data.withUnsafeBytes { activeTarget.run($0) }
        return 1
    }
}
