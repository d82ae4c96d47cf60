// tern-inspect <store-dir> <command> [options]: offline inspection of a Tern store (see Commands.swift).
//
// Exit status: 0 ok; 1 problems found (verify) or rebuild-index stopped at an invalid record; 2 usage
// errors and stores that cannot be opened (missing, locked by a broker, inconsistent segments) or read.
import ArgumentParser
import Foundation
import TernStorage

/// ArgumentParser wants the subcommand first; our usage puts the store first (like `mdb_stat <path>`).
/// `<store-dir> <command> rest…` becomes `<command> <store-dir> rest…`; anything else passes unchanged.
/// Every subcommand names itself in its configuration, so the set below is complete.
func reorderStoreFirst(_ arguments: [String]) -> [String] {
    let names = TernInspectCommand.configuration.subcommands.compactMap { $0.configuration.commandName }
    let commands = Set(names + ["help"])
    guard arguments.count >= 2, !arguments[0].hasPrefix("-"), !commands.contains(arguments[0]),
          commands.contains(arguments[1]) else { return arguments }
    var out = arguments
    out.swapAt(0, 1)
    return out
}

let arguments = reorderStoreFirst(Array(CommandLine.arguments.dropFirst()))
if arguments.count == 1, !arguments[0].hasPrefix("-"), reorderStoreFirst(arguments + ["stats"]).first == "stats" {
    printError("tern-inspect: missing command after the store directory\n" + TernInspectCommand.helpMessage())
    exit(2)
}
do {
    var command = try TernInspectCommand.parseAsRoot(arguments)
    try command.run()
} catch let error as OfflineStoreError {
    printError("tern-inspect: \(error)")
    exit(2)
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    // Help and version requests exit 0; usage errors exit 2 (not ArgumentParser's 64) with the usage text.
    if TernInspectCommand.exitCode(for: error) == .success {
        print(TernInspectCommand.fullMessage(for: error))
        exit(0)
    }
    let message = TernInspectCommand.fullMessage(for: error)
    printError(message.hasPrefix("Error:") || message.hasPrefix("Usage:") ? message : "tern-inspect: \(message)")
    exit(2)
}
