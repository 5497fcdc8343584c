import Foundation
import SealpostConfig
import SealpostTestSupport
import Testing

@testable import SealpostTLS

/// The directory of the shared material, removed at exit.
nonisolated(unsafe) private var materialDirectory: String?

/// Keys, certificates and DH files for the context tests, made once per test run with the real openssl:
/// a test CA, RSA-2048 and ECDSA P-256 server certificates for `mail.example.com` issued by it, a client
/// certificate `client.example.com` issued by it, a self-signed stranger, a `*.example.net` wildcard, and DH
/// parameter files of 2048 and 3072 bits.
final class ContextTestMaterial: @unchecked Sendable {
    let fixtures: Fixtures
    var directory: String { fixtures.directory }
    let caCertificate: String
    let rsaCertificate: String, rsaKey: String
    let ecCertificate: String, ecKey: String
    let clientCertificate: String, clientKey: String
    let strangerCertificate: String, strangerKey: String
    let wildcardCertificate: String
    let dh2048: String, dh3072: String

    private init() throws {
        fixtures = try Fixtures()
        // The material lives in a static for the whole run; remove its directory when the process ends.
        materialDirectory = fixtures.directory
        atexit {
            if let directory = materialDirectory { try? FileManager.default.removeItem(atPath: directory) }
        }
        let f = fixtures
        try f.ecKey("ca.key")
        try f.openssl(
            "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Sealpost Test CA/O=Sealpost Tests", "-days", "3650",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", "ca.pem")
        caCertificate = f.path("ca.pem")
        try f.write("leaf.ext", """
            [server]
            basicConstraints = critical,CA:FALSE
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:mail.example.com,DNS:mx.example.com
            [client]
            basicConstraints = critical,CA:FALSE
            extendedKeyUsage = clientAuth
            subjectAltName = DNS:client.example.com

            """)
        func issue(_ name: String, subject: String, section: String, serial: String) throws -> String {
            try f.openssl("req", "-new", "-key", "\(name).key", "-subj", subject, "-out", "\(name).csr")
            try f.openssl(
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", serial,
                "-days", "300", "-extfile", "leaf.ext", "-extensions", section, "-out", "\(name).pem")
            return f.path("\(name).pem")
        }
        rsaKey = try f.rsaKey("rsa.key")
        rsaCertificate = try issue("rsa", subject: "/CN=mail.example.com", section: "server", serial: "101")
        ecKey = try f.ecKey("ec.key")
        ecCertificate = try issue("ec", subject: "/CN=mail.example.com", section: "server", serial: "102")
        clientKey = try f.ecKey("client.key")
        clientCertificate = try issue("client", subject: "/CN=client.example.com", section: "client", serial: "103")
        strangerKey = try f.ecKey("stranger.key")
        strangerCertificate = try f.selfSigned(
            "stranger.pem", key: "stranger.key", subject: "/CN=stranger.example.com", subjectAltName: nil)
        try f.ecKey("wildcard.key")
        wildcardCertificate = try f.selfSigned(
            "wildcard.pem", key: "wildcard.key", subject: "/CN=*.example.net", subjectAltName: "DNS:*.example.net")
        try f.openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh2048.pem")
        try f.openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe3072", "-out", "dh3072.pem")
        dh2048 = f.path("dh2048.pem")
        dh3072 = f.path("dh3072.pem")
    }

    private static let made: Result<ContextTestMaterial, Error> = Result { try ContextTestMaterial() }

    /// The material, or nil when openssl is missing (recorded as a failure under CI).
    static func shared(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ContextTestMaterial? {
        guard ExternalTool.require("openssl", package: "openssl", sourceLocation: sourceLocation) != nil else { return nil }
        return try made.get()
    }

    /// main.cf lines for a STARTTLS server with the RSA certificate.
    var rsaServer: String {
        """
        smtpd_tls_security_level = may
        smtpd_tls_cert_file = \(rsaCertificate)
        smtpd_tls_key_file = \(rsaKey)

        """
    }

    /// The SHA-256 fingerprint of a certificate file as `openssl x509 -fingerprint` prints it.
    func opensslFingerprint(_ certificate: String, digest: String = "sha256") throws -> String {
        let output = try fixtures.openssl("x509", "-in", certificate, "-noout", "-fingerprint", "-\(digest)")
        return String(output.split(separator: "=", maxSplits: 1)[1]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The typed configuration of main.cf text (and, when given, of one master.cf service).
func serviceConfiguration(
    _ main: String, master: String = "", service: String? = nil, sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> ServiceConfiguration {
    let configuration = Configuration(
        directory: "/etc/sealpost",
        main: MainConfFile(path: "/etc/sealpost/main.cf", bytes: Array(main.utf8)),
        master: MasterConfFile(path: "/etc/sealpost/master.cf", bytes: Array(master.utf8)),
        host: HostFacts(hostname: "test", interfaceAddresses: [], processID: 1))
    let errors = configuration.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "configuration errors: \(errors)", sourceLocation: sourceLocation)
    if let service { return configuration.service(service)! }
    return configuration.global
}

/// Server settings from main.cf text.
func serverSettings(_ main: String, master: String = "", service: String? = nil) throws -> TLSServerSettings {
    try TLSServerSettings(serviceConfiguration(main, master: master, service: service))
}

/// A server context from main.cf text.
func serverContext(_ main: String, sink: TLSLogSink? = nil) throws -> TLSContext {
    let context = try TLSServerContextBuilder.makeContext(serverSettings(main))
    if let sink { context.state.logSink = sink }
    return context
}

/// Collects log lines (thread-safe).
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []

    // Weak: the collector keeps the sink, so a strong capture made a cycle that never freed either
    // (LeakSanitizer); a context may keep the sink beyond the collector, whose lines then go nowhere.
    lazy var sink = TLSLogSink { [weak self] line in
        guard let self else { return }
        lock.lock()
        collected.append(line)
        lock.unlock()
    }

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }
}
