import ArgumentParser

/// `sealpost bench`: tools for measuring mail throughput, like Postfix's smtp-source(1) and smtp-sink(1).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Generate SMTP load and measure it: an SMTP source and sink.",
        subcommands: [BenchSourceCommand.self, BenchSinkCommand.self]
    )
}
