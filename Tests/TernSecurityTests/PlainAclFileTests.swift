import Foundation
import Logging
import Testing
import TernSystem
@testable import TernSecurity

@Suite struct PlainAclFileTests {
    func withFile(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-acl-\(UUID())").path
        try FileSystem.createDirectory(directory)
        defer { try? FileSystem.removeRecursively(directory) }
        try body(directory + "/plain_acl.yml")
    }

    func write(_ path: String, _ text: String, mtimeMillis: Int64) throws {
        try FileSystem.writeAtomically(path, Array(text.utf8))
        // Explicit, distinct times: two writes within one clock tick must still count as a change.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(mtimeMillis) / 1000)],
                                              ofItemAtPath: path)
    }

    @Test func reloadsOnChangeAndKeepsPreviousAccountsWhenBroken() throws {
        try withFile { path in
            try write(path, "accounts:\n  - {accessKey: first123, secretKey: 12345678}\n", mtimeMillis: 1_000_000)
            let file = try PlainAclFile(path: path, logger: Logger(label: "test"))
            #expect(Set(file.current.accounts.keys) == ["first123"])
            #expect(!file.reloadIfChanged())  // unchanged

            try write(path, "accounts:\n  - {accessKey: second12, secretKey: 12345678}\n", mtimeMillis: 2_000_000)
            #expect(file.reloadIfChanged())
            #expect(Set(file.current.accounts.keys) == ["second12"])

            try write(path, "accounts:\n  - {accessKey: short, secretKey: 12345678}\n", mtimeMillis: 3_000_000)
            #expect(!file.reloadIfChanged())
            #expect(Set(file.current.accounts.keys) == ["second12"])

            try FileSystem.remove(path)
            #expect(!file.reloadIfChanged())
            #expect(Set(file.current.accounts.keys) == ["second12"])

            try write(path, "accounts:\n  - {accessKey: third123, secretKey: 12345678}\n", mtimeMillis: 4_000_000)
            #expect(file.reloadIfChanged())
            #expect(Set(file.current.accounts.keys) == ["third123"])
            #expect(file.reloadCounts == PlainAclFile.ReloadCounts(changes: 4, reloaded: 2, rejected: 2))
        }
    }

    @Test func missingOrBrokenFileAtStartupIsAnError() throws {
        try withFile { path in
            #expect(throws: AclConfigError.self) { try PlainAclFile(path: path, logger: Logger(label: "test")) }
            try write(path, "globalWhiteRemoteAddresses: [1.2.3]\n", mtimeMillis: 1_000_000)
            #expect(throws: AclConfigError.badAddress("1.2.3")) { try PlainAclFile(path: path, logger: Logger(label: "test")) }
        }
    }
}
