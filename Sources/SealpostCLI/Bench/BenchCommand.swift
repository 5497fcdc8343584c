import ArgumentParser

/// `sealpost bench`: load tools for measuring a mail server, or for being measured against.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Generate SMTP load and measure it.",
        subcommands: [BenchSourceCommand.self]
    )
}
