import ArgumentParser
import SealpostConfig
import SealpostDNS
import SealpostTLS

#if canImport(Glibc)
import Glibc
#endif

/// `sealpost finger`: connects to a mail server and reports what its TLS looks like, as Postfix's
/// posttls-finger(1) does — the SMTP chat, the certificate, the match result and the summary line.
struct FingerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finger",
        abstract: "Probe a mail server's TLS, as posttls-finger(1).",
        discussion: """
            The destination is a domain (MX lookup), host:port or host:service, or [host], [addr]:port (no MX \
            lookup). Further arguments are the names (secure, verify) or fingerprints (fingerprint) to match. \
            main.cf is read from $SEALPOST_CONFIG_DIR (or /etc/sealpost) when it exists; -o overrides it.
            """,
        // -h is posttls-finger's host lookup option.
        helpNames: [.long])

    @Flag(name: .customShort("w"), help: "TLS wrapper mode (SMTPS): TLS from the first byte.")
    var wrapper = false

    @Option(name: .customShort("l"), help: ArgumentHelp("The TLS security level: none, may, encrypt, fingerprint, verify, secure.", valueName: "level"))
    var level = "secure"

    @Option(name: .customShort("F"), help: ArgumentHelp("The PEM CAfile for verifying the server certificate.", valueName: "CAfile"))
    var caFile: String?

    @Option(name: .customShort("P"), help: ArgumentHelp("The OpenSSL CApath directory for verifying the server certificate.", valueName: "CApath"))
    var caPath: String?

    @Option(name: .customShort("s"), help: ArgumentHelp("The name sent in the TLS SNI extension.", valueName: "servername"))
    var serverName: String?

    @Flag(name: .customShort("c"), help: "No SMTP chat logging: only TLS information.")
    var noChat = false

    @Flag(name: .customShort("C"), help: "Print the server's certificate chain in PEM, with names and fingerprints.")
    var printChain = false

    @Option(name: .customShort("d"), help: ArgumentHelp("The digest for fingerprints (md5, sha1, sha256, sha512).", valueName: "mdalg"))
    var digest: String?

    @Option(name: .customShort("r"), help: ArgumentHelp("Reconnect after this many seconds and report whether the TLS session was reused.", valueName: "delay"))
    var reconnectDelay = 0

    @Option(name: .customShort("m"), help: ArgumentHelp("The most reconnections when new servers keep answering (with -r).", valueName: "count"))
    var reconnectLimit = 5

    @Option(name: .customShort("L"), help: ArgumentHelp("TLS logging: routine, summary, certmatch, peercert, cache, ssl-debug, … or 0-4.", valueName: "logopts"))
    var logOptions = "routine,certmatch"

    @Option(name: .customShort("h"), help: ArgumentHelp("Host lookup methods; only dns is supported.", valueName: "host_lookup"))
    var hostLookup = "dns"

    @Option(name: .customShort("t"), help: ArgumentHelp("The connect and greeting timeout in seconds.", valueName: "timeout"))
    var connectTimeout = 30

    @Option(name: .customShort("T"), help: ArgumentHelp("The EHLO, STARTTLS and QUIT timeout in seconds.", valueName: "timeout"))
    var commandTimeout = 30

    @Option(name: .customShort("o"), help: ArgumentHelp("Override a main.cf parameter (name=value); repeatable.", valueName: "name=value"))
    var overrides: [String] = []

    @Argument(help: "The destination.")
    var destination: String

    @Argument(help: "Names or fingerprints to match.")
    var match: [String] = []

    func validate() throws {
        guard let level = TLSClientSecurityLevel(name: level), !level.isDANEBased else {
            throw ValidationError("invalid TLS security level: \"\(level)\" (none, may, encrypt, fingerprint, verify, secure)")
        }
        if level == .fingerprint && match.isEmpty {
            throw ValidationError("the fingerprint level needs at least one fingerprint to match")
        }
        guard hostLookup.split(whereSeparator: { ", ".contains($0) }).allSatisfy({ $0 == "dns" }) else {
            throw ValidationError("unsupported host lookup: \(hostLookup) (only dns)")
        }
        for override in overrides where !override.contains("=") {
            throw ValidationError("-o needs name=value: \(override)")
        }
        if reconnectDelay < 0 { throw ValidationError("-r needs a positive delay") }
        do { _ = try FingerDestination(parsing: destination) } catch { throw ValidationError(error.description) }
    }

    func run() async throws {
        let output = FingerOutput(chat: !noChat)
        let configuration: ServiceConfiguration
        let settings: TLSClientSettings
        let context: TLSContext
        do {
            configuration = try makeConfiguration()
            settings = try TLSClientSettings(configuration)
            context = try TLSClientContextBuilder.makeContext(settings)
        } catch {
            output.fatal("\(error)")
            throw ExitCode(1)
        }
        let probe = FingerProbe(
            options: FingerProbe.Options(
                level: settings.defaultLevel, wrapper: wrapper, printChain: printChain,
                logMask: settings.logMask, matchArguments: match, digest: settings.fingerprintDigest,
                helo: configuration.string("myhostname"), connectTimeout: connectTimeout,
                commandTimeout: commandTimeout, reconnectDelay: reconnectDelay, reconnectLimit: reconnectLimit),
            context: context, output: output)
        let target = try FingerDestination(parsing: destination)
        guard await probe.run(target) else { throw ExitCode(1) }
    }

    /// main.cf (when there is one) with the command line's settings after it: later lines win, as in Postfix.
    private func makeConfiguration() throws -> ServiceConfiguration {
        let directory = getenv("SEALPOST_CONFIG_DIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
            ?? Configuration.defaultDirectory
        var text = ""
        if case .success(let bytes) = readFile(directory + "/main.cf") { text = String(decoding: bytes, as: UTF8.self) + "\n" }
        var lines = [
            "smtp_tls_security_level = \(level)",
            "smtp_tls_loglevel = \(logOptions)",
            // posttls-finger trusts no public CA unless told to.
            "tls_append_default_CA = no",
            "smtp_tls_CAfile = \(caFile ?? "")",
            "smtp_tls_CApath = \(caPath ?? "")",
            "smtp_tls_servername = \(serverName ?? "")",
            "smtp_tls_session_cache_timeout = \(reconnectDelay > 0 ? 3600 : 0)",
        ]
        if let digest { lines.append("smtp_tls_fingerprint_digest = \(digest)") }
        if level == "fingerprint" { lines.append("smtp_tls_fingerprint_cert_match = \(match.joined(separator: " "))") }
        lines += overrides.map { override in
            let (name, value) = (override.prefix { $0 != "=" }, override.drop { $0 != "=" }.dropFirst())
            return "\(name) = \(value)"
        }
        text += lines.joined(separator: "\n") + "\n"
        let loaded = Configuration(
            directory: directory, main: MainConfFile(path: directory + "/main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: directory + "/master.cf", bytes: []), host: .current())
        if let error = loaded.diagnostics.first(where: { $0.severity == .error }) {
            throw FingerDestination.Invalid(description: "\(error)")
        }
        return loaded.global
    }
}
