import Foundation

/// Whether any extent of `path` overlapping `blocks` (4 KiB blocks) is unwritten (reserved by posix_fallocate, not
/// yet written), from `filefrag -v` (FIEMAP); nil when filefrag is missing or failed. A file system without unwritten
/// extents (tmpfs, some overlays) reports none: callers first check that a fresh reservation shows them.
public func anyUnwrittenExtent(_ path: String, blocks: Range<Int>) -> Bool? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/filefrag")
    p.arguments = ["-v", "-b4096", path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    // Rows: "   0:        0..    2047:   28776448..  28778495:   2048:             last,unwritten,eof"
    var any = false
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count >= 3, Int(fields[0]) != nil else { continue }
        let logical = fields[1].components(separatedBy: "..").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard logical.count == 2, logical[0] < blocks.upperBound, logical[1] >= blocks.lowerBound else { continue }
        if line.contains("unwritten") { any = true }
    }
    return any
}
