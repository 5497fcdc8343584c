import Foundation
import SealpostTestSupport
import Testing

/// testssl.sh and sslyze against a running Sealpost's smtp (STARTTLS), submission (STARTTLS) and
/// smtps (implicit TLS) services, first with the seed's TLS settings, then with a strict
/// configuration. The verdicts come from the scanners' JSON severities; the tables printed are the
/// audit results for the closing notes.
///
/// The CI run asks testssl.sh for protocols and vulnerabilities only; `Scripts/audit-tls` sets
/// `SEALPOST_TLS_AUDIT=full` for testssl.sh's whole default run. sslyze always runs every check.
@Suite("TLS audits with testssl.sh and sslyze")
struct TLSAuditTests {
    /// The seed's main.cf TLS settings allow TLS 1.0 with CBC suites: that is all the audit may find.
    static let seedPermitted = [
        PermittedFinding(id: "BEAST", reason: "TLS 1.0 with CBC suites, allowed by the seed"),
        PermittedFinding(id: "BEAST_CBC_TLS1", reason: "TLS 1.0 with CBC suites, allowed by the seed"),
        PermittedFinding(id: "BEAST_tls_1_0", reason: "TLS 1.0 with CBC suites, allowed by the seed"),
        // The seed's `smtpd_tls_mandatory_protocols = TLSv1` lists the protocols to include, so
        // (Postfix's tls_protocol_mask) the services with mandatory TLS speak TLS 1.0 and nothing
        // newer; a TLS 1.1 or 1.2 client is answered with TLS 1.0, which testssl.sh grades as a downgrade.
        PermittedFinding(
            id: "TLS1_1", services: ["submission", "smtps"], reason: "smtpd_tls_mandatory_protocols = TLSv1: TLS 1.0 only"),
        PermittedFinding(
            id: "TLS1_2", services: ["submission", "smtps"], reason: "smtpd_tls_mandatory_protocols = TLSv1: TLS 1.0 only"),
        // The full run grades cipher categories: TLS 1.0 has no AEAD suites, testssl.sh's "strong" ones.
        PermittedFinding(
            id: "cipherlist_STRONG", services: ["submission", "smtps"], reason: "TLS 1.0 only: no AEAD suites"),
    ]

    @Test("the seed's TLS settings: nothing vulnerable but BEAST and LUCKY13 where TLS 1.0 and CBC suites are allowed")
    func seedConfiguration() async throws {
        let instance = try MailInstance(mainExtra: try Self.seedTLSSettings())
        try Self.prepare(instance)
        try instance.start()
        guard let findings = try await Self.audit(instance)?.findings else { return }
        print(findings.summaryTable(title: "TLS audit, seed configuration", permitted: Self.seedPermitted))
        let unexpected = findings.vulnerabilities(permitted: Self.seedPermitted)
        #expect(unexpected.isEmpty, "\(unexpected.map { "\($0.service) \($0.scanner) \($0.id) \($0.severity): \($0.detail)" })")
        // The permitted weaknesses are really there: the audit sees what the seed allows.
        #expect(findings.contains { $0.scanner == "testssl.sh" && $0.id == "TLS1" && $0.severity == .low })
        #expect(findings.contains { $0.scanner == "sslyze" && $0.id.hasPrefix("BEAST_") })
    }

    @Test("a strict configuration (TLS 1.2 and newer, AEAD suites only): nothing vulnerable at all")
    func strictConfiguration() async throws {
        let instance = try MailInstance(mainExtra: """
            smtpd_tls_dh1024_param_file = PLACEHOLDER
            smtpd_tls_protocols = >=TLSv1.2
            smtpd_tls_mandatory_protocols = >=TLSv1.2
            smtpd_tls_ciphers = high
            smtpd_tls_mandatory_ciphers = high
            tls_high_cipherlist = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20
            tls_preempt_cipherlist = yes
            """)
        try Self.prepare(instance)
        try instance.start()
        guard let (findings, acceptedSuites) = try await Self.audit(instance) else { return }
        print(findings.summaryTable(title: "TLS audit, strict configuration", permitted: []))
        let unexpected = findings.vulnerabilities(permitted: [])
        #expect(unexpected.isEmpty, "\(unexpected.map { "\($0.service) \($0.scanner) \($0.id) \($0.severity): \($0.detail)" })")
        for service in ["smtp", "submission", "smtps"] {
            for old in ["ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1"] {
                #expect(findings.contains { $0.service == service && $0.scanner == "sslyze" && $0.id == old && $0.severity == .ok }, "\(service): \(old) refused")
            }
        }
        for (service, suites) in acceptedSuites {
            let legacy = suites.filter { !($0.contains("_GCM_") || $0.contains("_CHACHA20_") || $0.contains("_CCM")) }
            #expect(legacy.isEmpty, "\(service) accepts suites that are not AEAD: \(legacy)")
        }
    }
}

extension TLSAuditTests {
    /// The seed's main.cf without its certificate paths (the instance has its own) and with a
    /// placeholder for its `smtpd_tls_dh1024_param_file`, which ``prepare(_:)`` makes.
    static func seedTLSSettings() throws -> String {
        let seed = try String(contentsOfFile: SealpostBinary.fixture("seed") + "/main.cf", encoding: .utf8)
        return seed.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            let name = line.split(separator: "=").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            switch name {
            case "smtpd_tls_cert_file", "smtpd_tls_key_file": return nil
            case "smtpd_tls_dh1024_param_file": return "smtpd_tls_dh1024_param_file = PLACEHOLDER"
            default: return String(line)
            }
        }.joined(separator: "\n")
    }

    /// Replaces the instance's self-signed certificate with one issued by a test CA, valid for a
    /// year, with a CRL distribution point: otherwise testssl.sh would grade the throwaway
    /// certificate rather than the TLS service. Makes the DH parameters (RFC 7919 ffdhe2048) and
    /// the scanners' OpenSSL client configuration.
    static func prepare(_ instance: MailInstance) throws {
        let fixtures = instance.fixtures
        try fixtures.ecKey("audit-root.key")
        try fixtures.openssl(
            "req", "-x509", "-new", "-key", "audit-root.key", "-subj", "/CN=Sealpost Audit Root", "-days", "3650",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", "audit-root.pem")
        try fixtures.write("audit-leaf.ext", """
            basicConstraints = critical,CA:FALSE
            keyUsage = critical,digitalSignature,keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:mx.example.test,DNS:localhost,IP:127.0.0.1
            crlDistributionPoints = URI:http://crl.example.test/audit-root.crl
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid

            """)
        try fixtures.rsaKey("key.pem")
        chmod(fixtures.path("key.pem"), 0o600)
        try fixtures.openssl("req", "-new", "-key", "key.pem", "-subj", "/CN=mx.example.test", "-out", "audit-leaf.csr")
        try fixtures.openssl(
            "x509", "-req", "-in", "audit-leaf.csr", "-CA", "audit-root.pem", "-CAkey", "audit-root.key",
            "-set_serial", "0x5EA1", "-days", "365", "-extfile", "audit-leaf.ext", "-out", "cert.pem")
        try fixtures.openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh2048.pem")
        chmod(fixtures.path("dh2048.pem"), 0o644)
        let mainCF = try fixtures.read("main.cf").replacingOccurrences(of: "PLACEHOLDER", with: fixtures.path("dh2048.pem"))
        try fixtures.write("main.cf", mainCF, mode: 0o644)
        try fixtures.write("scanner-openssl.cnf", """
            openssl_conf = openssl_init
            [openssl_init]
            ssl_conf = ssl_section
            [ssl_section]
            system_default = system_default_section
            [system_default_section]
            MinProtocol = TLSv1
            CipherString = DEFAULT@SECLEVEL=0

            """, mode: 0o644)
    }

    /// Runs both scanners against the three services at once and returns every finding and the
    /// cipher suites sslyze saw accepted per service; nil (with a recorded failure naming the
    /// package) when a scanner is missing.
    static func audit(_ instance: MailInstance) async throws -> (findings: [AuditFinding], acceptedSuites: [String: [String]])? {
        let testssl = TestSSL.locate()
        let sslyze = SSLyze.locate()
        guard let testssl, let sslyze else { return nil }
        let depth = AuditDepth.fromEnvironment
        let services = [
            AuditedService(name: "smtp", port: instance.smtpPort, startTLS: true),
            AuditedService(name: "submission", port: instance.submissionPort, startTLS: true),
            AuditedService(name: "smtps", port: instance.smtpsPort, startTLS: false),
        ]
        let anchor = instance.fixtures.path("audit-root.pem")
        var runs: [(service: AuditedService, testssl: ScannerProcess, sslyze: ScannerProcess)] = []
        for service in services {
            let testsslRun = try TestSSL.start(
                testssl, service: service, depth: depth, trustAnchor: anchor,
                clientConfiguration: instance.fixtures.path("scanner-openssl.cnf"),
                jsonPath: instance.fixtures.path("testssl-\(service.name).json"))
            let sslyzeRun = try SSLyze.start(sslyze, service: service, trustAnchor: anchor, jsonPath: instance.fixtures.path("sslyze-\(service.name).json"))
            runs.append((service, testsslRun, sslyzeRun))
        }
        var findings: [AuditFinding] = []
        var acceptedSuites: [String: [String]] = [:]
        for run in runs {
            let timeout: Double = depth == .full ? 3600 : 600
            if try await offCooperativePool({ run.testssl.wait(timeout: timeout) }) == nil { Issue.record("testssl.sh on \(run.service.name) did not finish in \(Int(timeout)) s") }
            if try await offCooperativePool({ run.sslyze.wait(timeout: timeout) }) == nil { Issue.record("sslyze on \(run.service.name) did not finish in \(Int(timeout)) s") }
            let testsslJSON = try Data(contentsOf: URL(fileURLWithPath: instance.fixtures.path("testssl-\(run.service.name).json")))
            let own = try TestSSL.findings(json: testsslJSON, service: run.service.name)
            // A scan that never reached the server would find nothing wrong: require the core checks.
            for id in ["TLS1_2", "heartbleed", "ROBOT", "BEAST", "LUCKY13"] {
                #expect(own.contains { $0.id == id }, "testssl.sh ran \(id) on \(run.service.name): \(run.testssl.output.suffix(2000))")
            }
            let sslyzeJSON = try Data(contentsOf: URL(fileURLWithPath: instance.fixtures.path("sslyze-\(run.service.name).json")))
            let theirs = try SSLyze.findings(json: sslyzeJSON, service: run.service.name)
            for id in ["tls_1_2", "heartbleed", "ROBOT", "certificate_trust"] {
                #expect(theirs.contains { $0.id == id }, "sslyze ran \(id) on \(run.service.name): \(run.sslyze.output.suffix(2000))")
            }
            acceptedSuites[run.service.name] = try SSLyze.acceptedSuites(json: sslyzeJSON).values.flatMap { $0 }
            findings += own + theirs
        }
        #expect(!instance.log.contains("panic") && !instance.log.contains("fatal:"), "the scans crashed nothing")
        return (findings, acceptedSuites)
    }
}
