import Foundation
import SealpostTestSupport
import Testing

/// A complete Sealpost instance for end-to-end tests: its own directory, loopback ports, a
/// certificate made by the real openssl, the local domain `example.test` with Maildir delivery,
/// and the seed's smtp, submission and smtps services — started with the built binary and
/// stopped (SIGTERM) when the instance is released.
///
/// When the tests run as root, Sealpost drops privileges to `nobody` as it would in production,
/// so the instance's directories are made reachable for that account.
final class MailInstance {
    let fixtures: OpenSSLFixtures
    var directory: String { fixtures.directory }
    private(set) var smtpPort: Int
    private(set) var submissionPort: Int
    private(set) var smtpsPort: Int
    /// master.cf with `PORT_*` placeholders, written again when other ports must be tried.
    private let masterTemplate: String
    private(set) var process: SealpostBinary.RunningProcess?

    /// The uid and gid mailboxes belong to: nobody when running as root, else the current user.
    static let owner: (uid: UInt32, gid: UInt32) = geteuid() == 0 ? (65534, 65534) : (geteuid(), getegid())

    /// - Parameters:
    ///   - mainExtra: more main.cf lines.
    ///   - master: replaces the default master.cf (with `PORT_SMTP`, `PORT_SUBMISSION`, `PORT_SMTPS`
    ///     placeholders).
    init(mainExtra: String = "", master: String? = nil, users: [String: String] = ["demo": "secret"]) throws {
        fixtures = try OpenSSLFixtures()
        masterTemplate = master ?? Self.seedMaster
        chmod(fixtures.directory, 0o755)
        (smtpPort, submissionPort, smtpsPort) = (try Self.freePort(), try Self.freePort(), try Self.freePort())
        try fixtures.rsaKey("key.pem")
        try fixtures.selfSigned(
            "cert.pem", key: "key.pem", subject: "/CN=mx.example.test",
            subjectAltName: "DNS:mx.example.test,DNS:localhost,IP:127.0.0.1", days: 30)
        chmod(fixtures.path("key.pem"), 0o600)
        try fixtures.write("vmailbox", users.keys.sorted().map { "\($0)@example.test example.test/\($0)/\n" }.joined(), mode: 0o644)
        // SMTP AUTH logins `user@example.test`, hashed by the real openssl (SHA-512 crypt).
        let passwd = try users.keys.sorted().map { user in
            let hash = try fixtures.openssl("passwd", "-6", users[user]!).trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(user)@example.test:{SHA512-CRYPT}\(hash)\n"
        }.joined()
        try fixtures.write("passwd", passwd, mode: 0o640)
        chown(fixtures.path("passwd"), Self.owner.uid, Self.owner.gid)
        try FileManager.default.createDirectory(atPath: directory + "/mail", withIntermediateDirectories: true)
        chown(directory + "/mail", Self.owner.uid, Self.owner.gid)
        try fixtures.write(
            "main.cf",
            """
            myhostname = mx.example.test
            mydomain = example.test
            queue_directory = \(directory)/queue
            data_directory = \(directory)/data
            maillog_file = \(directory)/maillog
            maillog_file_prefixes = \(directory)
            mail_owner = nobody
            inet_interfaces = loopback-only
            mynetworks = 192.0.2.0/24
            virtual_mailbox_domains = example.test
            virtual_mailbox_base = \(directory)/mail
            virtual_mailbox_maps = texthash:\(directory)/vmailbox
            virtual_uid_maps = static:\(Self.owner.uid)
            virtual_gid_maps = static:\(Self.owner.gid)
            smtpd_tls_cert_file = \(directory)/cert.pem
            smtpd_tls_key_file = \(directory)/key.pem
            smtpd_tls_security_level = may
            smtpd_tls_received_header = yes
            smtpd_tls_loglevel = 1
            smtpd_error_sleep_time = 0
            smtpd_sasl_type = passwd-file
            smtpd_sasl_path = \(directory)/passwd
            \(mainExtra)

            """, mode: 0o644)
        try writeMaster()
    }

    private func writeMaster() throws {
        let services = masterTemplate
            .replacingOccurrences(of: "PORT_SMTPS", with: String(smtpsPort))
            .replacingOccurrences(of: "PORT_SUBMISSION", with: String(submissionPort))
            .replacingOccurrences(of: "PORT_SMTP", with: String(smtpPort))
        try fixtures.write("master.cf", services, mode: 0o644)
    }

    /// The seed's three services on loopback ports.
    static let seedMaster = """
        127.0.0.1:PORT_SMTP inet n - n - - smtpd
        127.0.0.1:PORT_SUBMISSION inet n - n - - smtpd
          -o syslog_name=postfix/submission
          -o smtpd_tls_security_level=encrypt
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_tls_auth_only=yes
          -o smtpd_reject_unlisted_recipient=no
          -o smtpd_recipient_restrictions=
          -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
          -o milter_macro_daemon_name=ORIGINATING
        127.0.0.1:PORT_SMTPS inet n - n - - smtpd
          -o syslog_name=postfix/smtps
          -o smtpd_tls_wrappermode=yes
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_reject_unlisted_recipient=no
          -o smtpd_recipient_restrictions=
          -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
          -o milter_macro_daemon_name=ORIGINATING

        """

    /// Starts Sealpost and waits until it serves. A port found free can be taken by a parallel test
    /// before Sealpost binds it: then other ports are tried.
    func start() throws {
        for _ in 0..<3 {
            process = try SealpostBinary.start(["run", "-c", directory])
            let settled = waitUntil(timeout: 20) { self.log.contains("daemon started") || !(self.process?.process.isRunning ?? false) }
            if settled, !log.contains("daemon started"), log.contains("Address already in use") {
                _ = process?.stop()
                process = nil
                (smtpPort, submissionPort, smtpsPort) = (try Self.freePort(), try Self.freePort(), try Self.freePort())
                try writeMaster()
                continue
            }
            break
        }
        let started = waitUntil(timeout: 20) { self.log.contains("daemon started") || !(self.process?.process.isRunning ?? false) }
            && log.contains("daemon started")
        if !started {
            let (status, errors) = process!.stop()
            Issue.record("Sealpost did not start (status \(status)): \(errors)\n\(log)")
            throw CocoaError(.executableLoad)
        }
    }

    /// Stops Sealpost (SIGTERM) and returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let running = process else { return 0 }
        process = nil
        return running.stop(signal: SIGTERM).status
    }

    /// Kills Sealpost with SIGKILL, as a crash or power cut would stop it.
    func crash() {
        guard let running = process else { return }
        process = nil
        _ = running.stop(signal: SIGKILL)
    }

    deinit { stop() }

    /// The log so far.
    var log: String { (try? String(contentsOfFile: directory + "/maillog", encoding: .utf8)) ?? "" }

    /// Waits for a log line containing `text`.
    func waitForLog(_ text: String, timeout: Double = 10) -> Bool {
        waitUntil(timeout: timeout) { self.log.contains(text) }
    }

    /// The messages delivered to `user@example.test`, oldest first.
    func mailbox(_ user: String) -> [String] {
        let path = "\(directory)/mail/example.test/\(user)/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: "\(path)/\($0)", encoding: .utf8) }
    }

    /// A TCP port nobody listens on now.
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        guard bound == 0 else { throw CocoaError(.fileWriteUnknown) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs a Python 3 script (the standard library's smtplib, ssl and socket are the peers) and
/// returns its standard output; the script's failures fail the test.
func python(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        Issue.record("python failed: \(String(decoding: errorData, as: UTF8.self))", sourceLocation: sourceLocation)
    }
    return String(decoding: data, as: UTF8.self)
}
