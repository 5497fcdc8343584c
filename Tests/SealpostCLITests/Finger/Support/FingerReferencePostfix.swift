import Foundation
import SealpostTestSupport
import Testing

/// A throwaway Postfix 3.7 (`postfix -c DIR start`) on random ports of 127.0.0.1 — smtpd with STARTTLS and an
/// smtps-style wrapper-mode smtpd, both with a certificate for mail.example.com from a test CA — to probe with
/// `sealpost finger` and posttls-finger side by side. ``stop()`` (or deinit) stops it.
///
/// Adapted from the SMTP client tests' reference Postfix (test targets cannot share code).
final class FingerReferencePostfix {
    let directory: TemporaryDirectory
    let certificates: OpenSSLFixtures
    let hierarchy: OpenSSLFixtures.Hierarchy
    let port: Int
    let wrapperPort: Int
    private let postfix: String
    private var running = false

    var configDirectory: String { directory.path + "/etc" }
    var log: String { (try? String(contentsOfFile: directory.path + "/maillog", encoding: .utf8)) ?? "" }

    /// Starts Postfix; nil (with a recorded issue naming the package) when it is not installed.
    static func start(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> FingerReferencePostfix? {
        guard let postfix = FingerPeer.require("postfix", package: "postfix", sourceLocation: sourceLocation) else { return nil }
        guard geteuid() == 0 else {
            Issue.record("the reference Postfix needs root (postfix start)", sourceLocation: sourceLocation)
            return nil
        }
        let instance = try FingerReferencePostfix(postfix: postfix)
        try instance.start()
        return instance
    }

    private init(postfix: String) throws {
        self.postfix = postfix
        directory = try TemporaryDirectory()
        chmod(directory.path, 0o755)
        certificates = try OpenSSLFixtures()
        chmod(certificates.directory, 0o755)
        hierarchy = try certificates.hierarchy(leafKey: .rsa)
        port = try MailInstance.freePort()
        wrapperPort = try MailInstance.freePort()
        let base = directory.path
        let manager = FileManager.default
        for folder in ["etc", "queue", "data"] {
            try manager.createDirectory(atPath: base + "/" + folder, withIntermediateDirectories: true)
        }
        chown(base + "/data", getpwnam("postfix")?.pointee.pw_uid ?? 0, getpwnam("postfix")?.pointee.pw_gid ?? 0)
        try """
            compatibility_level = 3.7
            myhostname = reference.example.test
            mydomain = example.test
            mydestination =
            queue_directory = \(base)/queue
            data_directory = \(base)/data
            maillog_file = \(base)/maillog
            maillog_file_prefixes = \(base)
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            alias_maps =
            alias_database =
            smtpd_tls_security_level = may
            smtpd_tls_chain_files = \(hierarchy.leafKey), \(hierarchy.fullchain)
            smtpd_tls_loglevel = 1

            """.write(toFile: base + "/etc/main.cf", atomically: false, encoding: .utf8)
        let proto = manager.fileExists(atPath: "/etc/postfix/master.cf.proto") ? "/etc/postfix/master.cf.proto" : "/usr/share/postfix/master.cf.dist"
        var master = ""
        for var line in try String(contentsOfFile: proto, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("smtp ") && line.contains(" inet ") {
                line = "127.0.0.1:\(port) inet n - n - - smtpd"
            }
            // No chroot: this instance has no /etc copies inside its queue directory.
            line = line.replacing(#/^(\S+\s+(?:unix|unix-dgram|inet|fifo|pass)\s+\S+\s+\S+\s+)y(\s)/#) { "\($0.1)n\($0.2)" }
            master += line + "\n"
        }
        master += "127.0.0.1:\(wrapperPort) inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n"
        try master.write(toFile: base + "/etc/master.cf", atomically: false, encoding: .utf8)
    }

    private func start() throws {
        let check = try FingerPeer.run(postfix, ["-c", configDirectory, "check"])
        guard check.status == 0 else { throw FixtureError("postfix check failed: \(check.output)") }
        let started = try FingerPeer.run(postfix, ["-c", configDirectory, "start"])
        guard started.status == 0 else { throw FixtureError("postfix start failed: \(started.output)\n\(log)") }
        running = true
        guard FingerPeer.waitForListener(port: port), FingerPeer.waitForListener(port: wrapperPort) else {
            stop()
            throw FixtureError("Postfix did not listen on \(port): \(log)")
        }
    }

    func stop() {
        guard running else { return }
        running = false
        let pidFile = directory.path + "/queue/pid/master.pid"
        let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        _ = try? FingerPeer.run(postfix, ["-c", configDirectory, "stop"])
        if let pid, !waitUntil(timeout: 15, { kill(pid, 0) != 0 }) {
            kill(pid, SIGKILL)
        }
    }

    deinit { stop() }
}

/// The real programs the finger tests run (Debian packages).
enum FingerPeer {
    /// The path of `name`; records a failure naming the Debian package when it is not installed.
    static func require(_ name: String, package: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String? {
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        Issue.record("\(name) is not installed: apt-get install -y \(package)", sourceLocation: sourceLocation)
        return nil
    }

    /// Runs a program to completion; its standard output and error together.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Waits until something accepts connections on 127.0.0.1:`port`.
    static func waitForListener(port: Int, timeout: Double = 20) -> Bool {
        waitUntil(timeout: timeout) {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        }
    }
}
