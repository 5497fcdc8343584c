import ArgumentParser
import SealpostConfig

/// The `sealpost` command: a Postfix-compatible mail transfer agent.
public struct SealpostCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sealpost",
        abstract: "A mail transfer agent configured like Postfix, with TLS done right.",
        version: SealpostVersion.string,
        subcommands: [
            ConfCommand.self, CheckCommand.self, RunCommand.self, CatalogueCommand.self, PasswdCommand.self,
            QueueCommand.self, SendmailCommand.self, TLSCommand.self, FingerCommand.self, BenchCommand.self,
        ]
    )

    public init() {}
}
