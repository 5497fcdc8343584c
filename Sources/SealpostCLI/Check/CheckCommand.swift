import ArgumentParser
import SealpostConfig
import SealpostServer

/// `sealpost check`: everything start-up validates. Exit status 0 when there are no errors
/// (warnings and notices allowed), 1 otherwise.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the configuration, certificates, keys, lookup tables and directories.",
        discussion: "Exits 0 when nothing is wrong or there are only warnings, 1 on errors.")

    @OptionGroup var config: ConfigDirectoryOption

    @Option(name: .customShort("w"), help: "Warn about certificates that expire within this many days.")
    var expiryWarningDays = 30

    func run() throws {
        let configuration = Configuration.load(directory: config.resolved)
        let diagnostics = StartupChecks.diagnostics(for: configuration, expiryWarningDays: expiryWarningDays)
        for diagnostic in diagnostics {
            Terminal.diagnostic(diagnostic.severity.rawValue, diagnostic.description)
        }
        if diagnostics.hasErrors { throw ExitCode(1) }
    }
}
