import ArgumentParser
import Logging
import SealpostConfig
import SealpostLog
import SealpostServer
import ServiceLifecycle

/// `sealpost run`: run the mail system in the foreground until SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run Sealpost in the foreground (SIGHUP reloads, SIGTERM stops).")

    @OptionGroup var config: ConfigDirectoryOption

    @Flag(help: "Create (on first run) and run the demo instance in ./.sealpost-demo.")
    var demo = false

    func validate() throws {
        if demo && config.directory != nil { throw ValidationError("--demo uses ./.sealpost-demo; leave out -c") }
    }

    func run() async throws {
        let directory = try demo ? prepareDemo() : config.resolved
        try await run(directory: directory)
    }

    private func prepareDemo() throws -> String {
        do {
            let (path, created) = try DemoInstance.prepare()
            Terminal.out(DemoInstance.banner(path: path, created: created))
            return path
        } catch {
            Terminal.fatal("cannot create the demo instance: \(error)")
            throw ExitCode(1)
        }
    }

    private func run(directory: String) async throws {
        let configuration = Configuration.load(directory: directory)
        let diagnostics = StartupChecks.diagnostics(for: configuration)
        let errors = diagnostics.errors
        if !errors.isEmpty {
            for error in errors { Terminal.fatal(error.description) }
            Terminal.fatal("\(errors.count) configuration error(s); not starting (run `sealpost check -c \(directory)`)")
            throw ExitCode(1)
        }

        let sink: LogSink
        do {
            sink = try LogDestination.sink(for: configuration)
        } catch {
            Terminal.fatal(error.description)
            throw ExitCode(1)
        }
        let system = MailSystem(configuration: configuration, diagnostics: diagnostics, sink: sink) {
            let fresh = Configuration.load(directory: directory)
            return (fresh, StartupChecks.diagnostics(for: fresh))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: system, successTerminationBehavior: .gracefullyShutdownGroup)],
                logger: Logger(label: "sealpost.lifecycle", factory: { _ in SwiftLogNoOpLogHandler() })))
        do {
            try await group.run()
        } catch {
            throw ExitCode(1)
        }
    }
}
