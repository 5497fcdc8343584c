import ArgumentParser
import NIOCore
import SealpostConfig
import SealpostTLS

/// `sealpost bench source`: an SMTP load generator in the manner of Postfix's smtp-source(1), with TLS, AUTH,
/// and a report of throughput, latency percentiles, errors and the TLS negotiated.
struct BenchSourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source",
        abstract: "Send test mail over many SMTP sessions at once and report how it went.",
        discussion: """
            Each session connects (or reuses its connection), sends EHLO, STARTTLS and EHLO again when asked, \
            AUTH PLAIN when asked, then MAIL, RCPT for each recipient, DATA with a generated message, and QUIT \
            or the next message. Latency is measured from MAIL to the reply after the end of the data. The \
            exit status is 1 when any message was not accepted.
            """
    )

    @Option(name: .customShort("s"), help: ArgumentHelp("Sessions running in parallel.", valueName: "sessions"))
    var sessions = 1

    @Option(name: .customShort("m"), help: ArgumentHelp("Messages to send in all.", valueName: "messages"))
    var messages = 1

    @Option(name: .customShort("l"), help: ArgumentHelp("Size of each message in octets, headers included.", valueName: "octets"))
    var size = 1024

    @Option(name: .customShort("r"), help: ArgumentHelp("Recipients per message; above 1 they are numbered, as smtp-source does.", valueName: "recipients"))
    var recipients = 1

    @Option(name: .long, help: ArgumentHelp("Messages per connection before it is closed and another one opened.", valueName: "messages"))
    var reuse = 1

    @Flag(name: .long, help: "Send MAIL, RCPT and DATA in one go when the server offers PIPELINING.")
    var pipelining = false

    @Flag(name: .long, help: "Use STARTTLS; a connection whose server does not offer it fails.")
    var starttls = false

    @Flag(name: .long, help: "Start TLS on connecting (SMTPS), before the greeting.")
    var wrapper = false

    @Option(name: .long, help: ArgumentHelp("AUTH PLAIN with user:password after EHLO (and after TLS, when used).", valueName: "user:password"))
    var auth: String?

    @Option(name: .customShort("f"), help: ArgumentHelp("The envelope sender.", valueName: "address"))
    var from = "bench@localhost"

    @Option(name: .customShort("t"), help: ArgumentHelp("The envelope recipient.", valueName: "address"))
    var to = "bench@localhost"

    @Option(name: .long, help: ArgumentHelp("The EHLO name.", valueName: "name"))
    var helo = "localhost"

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for a connection or a reply.", valueName: "seconds"))
    var timeout = 30

    @Flag(name: .long, help: "Accept any server certificate (TLS encrypts, nothing is verified).")
    var insecure = false

    @Option(name: .customLong("CAfile"), help: ArgumentHelp("Trust anchors (PEM) for checking the server certificate; the system's when absent.", valueName: "file"))
    var caFile: String?

    @Argument(help: "The server, host:port ([ipv6]:port for an IPv6 address).")
    var server: String

    func validate() throws {
        for (value, name) in [(sessions, "-s"), (messages, "-m"), (recipients, "-r"), (reuse, "--reuse"), (timeout, "--timeout")]
        where value < 1 {
            throw ValidationError("\(name) needs a number of at least 1")
        }
        if size < 0 { throw ValidationError("-l needs a size of at least 0") }
        if starttls && wrapper { throw ValidationError("--starttls and --wrapper exclude each other") }
        if let auth, !auth.contains(":") { throw ValidationError("--auth needs user:password") }
        // They go into commands and headers as they are: no line breaks, spaces or brackets may sneak in.
        for (value, name) in [(from, "-f"), (to, "-t"), (helo, "--helo")]
        where value.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || "<>".unicodeScalars.contains($0) }) {
            throw ValidationError("\(name) may not contain spaces, control characters or angle brackets")
        }
        _ = try Self.split(server)
    }

    func run() async throws {
        let (host, port) = try Self.split(server)
        let address: String
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port).ipAddress ?? host
        } catch {
            print("sealpost bench source: cannot resolve \(host): \(error)")
            throw ExitCode(2)
        }
        let level: TLSClientSecurityLevel = insecure ? .encrypt : .verify
        var context: TLSContext?
        if starttls || wrapper {
            do {
                context = try TLSClientContextBuilder.makeContext(TLSClientSettings(makeTLSConfiguration(level: level)))
            } catch {
                print("sealpost bench source: TLS: \(error)")
                throw ExitCode(2)
            }
        }
        let credentials = auth.map { auth in
            (user: String(auth.prefix { $0 != ":" }), password: String(auth.drop { $0 != ":" }.dropFirst()))
        }
        let options = SourceOptions(
            host: host, address: address, port: port, messageSize: size, recipients: recipients,
            messagesPerConnection: reuse, pipelining: pipelining, startTLS: starttls, wrapper: wrapper,
            credentials: credentials, sender: from, recipient: to, helo: helo, timeout: timeout,
            tlsContext: context, tlsLevel: level)
        let message = SourceMessage(size: size, from: from, to: SourceSession.recipients(options)[0])
        let tally = SourceTally(messages: messages)
        let clock = ContinuousClock()
        let start = clock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<sessions {
                group.addTask { await SourceSession(options: options, tally: tally, message: message).run() }
            }
        }
        let report = SourceReport(
            sessions: sessions, messages: messages, accepted: await tally.accepted, failed: await tally.failed,
            connections: await tally.connections, wallTime: clock.now - start, latency: await tally.latency,
            errors: await tally.errors, tls: await tally.tls)
        print(report.text, terminator: "")
        if report.failed > 0 { throw ExitCode(1) }
    }

    /// `host:port`, `[v6]:port`; the port is required, since a load test picks its target deliberately.
    static func split(_ server: String) throws -> (host: String, port: Int) {
        let host: Substring
        let portText: Substring
        if server.hasPrefix("["), let close = server.firstIndex(of: "]") {
            host = server[server.index(after: server.startIndex)..<close]
            let rest = server[server.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ValidationError("\(server): expected [address]:port") }
            portText = rest.dropFirst()
        } else {
            guard let colon = server.lastIndex(of: ":") else { throw ValidationError("\(server): expected host:port") }
            host = server[..<colon]
            portText = server[server.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
            throw ValidationError("\(server): expected host:port with a port from 1 to 65535")
        }
        return (String(host), port)
    }

    /// The smtp_tls_* settings the client context is built from: nothing from main.cf, so a benchmark measures
    /// the same thing wherever it runs.
    private func makeTLSConfiguration(level: TLSClientSecurityLevel) throws -> ServiceConfiguration {
        let lines = [
            "smtp_tls_security_level = \(level.name)",
            "smtp_tls_verify_cert_match = hostname",
            "tls_append_default_CA = \(caFile == nil ? "yes" : "no")",
            "smtp_tls_CAfile = \(caFile ?? "")",
            "smtp_tls_session_cache_timeout = 0",
        ]
        let text = lines.joined(separator: "\n") + "\n"
        let loaded = Configuration(
            directory: "/nonexistent", main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: "master.cf", bytes: []), host: .current())
        if let error = loaded.diagnostics.first(where: { $0.severity == .error }) {
            throw ValidationError("\(error)")
        }
        return loaded.global
    }
}
