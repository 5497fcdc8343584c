import ArgumentParser
import Dispatch
import NIOCore
import NIOPosix
import SealpostTLS

#if canImport(Glibc)
import Glibc
#endif

/// `sealpost bench sink`: an SMTP server that accepts and discards mail and counts it, as Postfix's
/// smtp-sink(1) does, for measuring SMTP clients.
struct BenchSinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink",
        abstract: "Accept and discard SMTP mail, counting it (like smtp-sink(1)).",
        discussion: """
            Answers EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT and, with --starttls, STARTTLS; announces \
            PIPELINING, SIZE and 8BITMIME. Command names for --fail and --delay are the verbs, CONNECT (the \
            greeting) and . (the end of message content). The totals are printed at exit (SIGINT, SIGTERM) as \
            "sessions=N messages=N recipients=N bytes=N tls=N errors=N", and every second with -c.
            """)

    @Flag(name: .customShort("c"), help: "Print the counters every second.")
    var printCounters = false

    @Flag(name: .customShort("4"), help: "Listen on IPv4 only.")
    var ipv4Only = false

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Offer STARTTLS with this PEM certificate (chain) file and key file.", valueName: "cert key"))
    var starttls: [String] = []

    @Flag(help: "TLS from the first byte (SMTPS); needs --starttls for the certificate.")
    var wrapper = false

    @Option(help: ArgumentHelp("Reply CODE (4xx or 5xx) to COMMAND; repeatable.", valueName: "COMMAND=CODE"))
    var fail: [String] = []

    @Option(help: ArgumentHelp("Wait MS milliseconds before replying to COMMAND; repeatable.", valueName: "COMMAND=MS"))
    var delay: [String] = []

    @Option(help: "Refuse connections (421) while this many sessions are open.")
    var maxSessions: Int?

    @Argument(help: ArgumentHelp("The address to listen on: host:port, [address]:port or :port.", valueName: "host:port"))
    var address: String?

    /// `--starttls` takes two values but the parser gives it every word up to the next option, so a
    /// trailing host:port lands there: it is taken back.
    private var certificateFiles: [String] { address == nil ? Array(starttls.prefix(2)) : starttls }
    private var listenAddress: String { address ?? (starttls.count == 3 ? starttls[2] : "") }

    func validate() throws {
        if !starttls.isEmpty && certificateFiles.count != 2 { throw ValidationError("--starttls takes two files: CERT KEY") }
        if address == nil && starttls.count != 3 { throw ValidationError("Missing expected argument '<host:port>'") }
        if wrapper && starttls.isEmpty { throw ValidationError("--wrapper needs --starttls CERT KEY") }
        if let maxSessions, maxSessions < 1 { throw ValidationError("--max-sessions must be at least 1") }
        do {
            _ = try behavior(offersStartTLS: false)
            _ = try SinkEndpoint(listenAddress)
        } catch {
            throw ValidationError(error.description)
        }
    }

    private func behavior(offersStartTLS: Bool) throws(SinkArgumentError) -> SinkBehavior {
        var behavior = SinkBehavior()
        behavior.offersStartTLS = offersStartTLS
        for text in fail {
            let (command, code) = try SinkBehavior.assignment(text, option: "--fail")
            guard (400...599).contains(code) else { throw SinkArgumentError("--fail \(text): the code must be 4xx or 5xx") }
            behavior.failures[command] = code
        }
        for text in delay {
            let (command, milliseconds) = try SinkBehavior.assignment(text, option: "--delay")
            behavior.delays[command] = milliseconds
        }
        return behavior
    }

    func run() async throws {
        // Trap the signals first: one that arrives earlier would kill the sink before it printed anything.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let tlsContext: TLSContext?
        let socketAddress: SocketAddress
        do {
            tlsContext = starttls.isEmpty ? nil : try SinkTLS.serverContext(certificate: certificateFiles[0], key: certificateFiles[1])
            socketAddress = try SinkEndpoint(listenAddress).resolve(ipv4Only: ipv4Only)
        } catch {
            Terminal.fatal("\(error)")
            throw ExitCode(1)
        }
        let behavior = try behavior(offersStartTLS: tlsContext != nil && !wrapper)
        let counters = SinkCounters()
        let channel: Channel
        do {
            channel = try await SinkListener.bind(
                to: socketAddress, behavior: behavior, counters: counters, tlsContext: tlsContext, wrapperMode: wrapper,
                maximumSessions: maxSessions, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            Terminal.fatal("cannot listen on \(listenAddress): \(error)")
            throw ExitCode(1)
        }
        Terminal.note("listening on \(channel.localAddress?.description ?? listenAddress)", program: "sealpost bench sink")

        let stop = AsyncStream<Int32>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { stop.continuation.yield(number) }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        await withTaskGroup(of: Void.self) { group in
            if printCounters {
                group.addTask {
                    // A cancelled sleep ends the loop, so the totals at exit are not printed twice.
                    while (try? await Task.sleep(for: .seconds(1))) != nil {
                        Terminal.out("\(counters.snapshot)\n")
                    }
                }
            }
            for await _ in stop.stream { break }
            group.cancelAll()
        }
        try? await channel.close()
        Terminal.out("\(counters.snapshot)\n")
    }
}
