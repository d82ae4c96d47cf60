import ArgumentParser

/// `tern`: RocketMQ-compatible name server and broker.
@main
struct Tern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "A RocketMQ-compatible message broker.",
        subcommands: [StandaloneCommand.self, NamesrvCommand.self, BrokerCommand.self, AdminCommand.self]
    )
}
