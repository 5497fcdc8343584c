import Foundation
import Testing

/// A throwaway Postfix 3.7 (`postfix -c DIR start`) listening on a random port of 127.0.0.1, with
/// STARTTLS (a certificate for mail.example.com from a test CA), `example.com` as a virtual mailbox
/// domain whose only user is demo@example.com (a Maildir owned by nobody), and its log in a file.
/// ``stop()`` (or deinit) stops it and kills whatever is left. The SMTP client's and `sealpost
/// finger`'s tests talk to it.
public final class ReferencePostfix: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let certificates: OpenSSLFixtures
    public let hierarchy: OpenSSLFixtures.Hierarchy
    public let port: Int
    /// An smtps-style service (`smtpd_tls_wrappermode = yes`): TLS from the first byte.
    public let wrapperPort: Int
    private let postfix: String
    private var running = false

    public var configDirectory: String { directory.path + "/etc" }
    public var maildir: String { directory.path + "/mail/example.com/demo/new" }
    public var log: String { (try? String(contentsOfFile: directory.path + "/maillog", encoding: .utf8)) ?? "" }

    /// Starts Postfix; nil (with a recorded issue) when it is not installed. `mainExtra` lines are
    /// appended to main.cf (a later line overrides an earlier one, as Postfix reads it).
    public static func start(mainExtra: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ReferencePostfix? {
        guard let postfix = PeerProgram.require("postfix", package: "postfix", sourceLocation: sourceLocation) else { return nil }
        guard geteuid() == 0 else {
            Issue.record("the reference Postfix needs root (postfix start)", sourceLocation: sourceLocation)
            return nil
        }
        let instance = try ReferencePostfix(postfix: postfix, mainExtra: mainExtra)
        try instance.start()
        return instance
    }

    private init(postfix: String, mainExtra: String) throws {
        self.postfix = postfix
        directory = try TemporaryDirectory()
        chmod(directory.path, 0o755)
        certificates = try OpenSSLFixtures()
        chmod(certificates.directory, 0o755)
        hierarchy = try certificates.hierarchy(leafKey: .rsa)
        port = try freeLoopbackPort()
        wrapperPort = try freeLoopbackPort()
        let base = directory.path
        let manager = FileManager.default
        for folder in ["etc", "queue", "data", "mail"] {
            try manager.createDirectory(atPath: base + "/" + folder, withIntermediateDirectories: true)
        }
        chown(base + "/data", Self.uid("postfix"), Self.gid("postfix"))
        chown(base + "/mail", 65534, 65534)
        let standard = """
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
            mynetworks = 127.0.0.0/8
            virtual_mailbox_domains = example.com
            virtual_mailbox_base = \(base)/mail
            virtual_mailbox_maps = inline:{ demo@example.com=example.com/demo/ }
            virtual_uid_maps = static:65534
            virtual_gid_maps = static:65534
            smtpd_tls_security_level = may
            smtpd_tls_chain_files = \(hierarchy.leafKey), \(hierarchy.fullchain)
            smtpd_tls_received_header = yes
            smtpd_tls_loglevel = 1
            """
        try Self.mainCF(standard, overriddenBy: mainExtra).write(toFile: base + "/etc/main.cf", atomically: false, encoding: .utf8)
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

    /// The standard main.cf with `extra`'s parameters in place of the standard ones of the same
    /// name. A name given twice makes every Postfix process warn "overriding earlier entry" at
    /// start, postlogd too, through its own socket before it reads it: with more warnings queued
    /// than `net.unix.max_dgram_qlen` (10) it blocks for ever, and every process that logs with it.
    static func mainCF(_ standard: String, overriddenBy extra: String) -> String {
        func name(_ line: Substring) -> Substring? {
            guard let first = line.first, !first.isWhitespace, first != "#", let equals = line.firstIndex(of: "=") else { return nil }
            return line[..<equals].trimmingCharacters(in: .whitespaces)[...]
        }
        let extraLines = extra.split(separator: "\n", omittingEmptySubsequences: false)
        let overridden = Set(extraLines.compactMap(name))
        var kept: [Substring] = []
        var droppingContinuation = false
        for line in standard.split(separator: "\n", omittingEmptySubsequences: false) {
            if let lineName = name(line) {
                droppingContinuation = overridden.contains(lineName)
            } else if !(line.first?.isWhitespace ?? false) {
                droppingContinuation = false
            }
            if !droppingContinuation { kept.append(line) }
        }
        return (kept + extraLines).joined(separator: "\n") + "\n"
    }

    private func start() throws {
        let check = try PeerProgram.run(postfix, ["-c", configDirectory, "check"])
        guard check.status == 0 else { throw FixtureError("postfix check failed: \(check.output)") }
        let started = try PeerProgram.run(postfix, ["-c", configDirectory, "start"])
        guard started.status == 0 else { throw FixtureError("postfix start failed: \(started.output)\n\(log)") }
        running = true
        guard waitForLoopbackListener(port: port), waitForLoopbackListener(port: wrapperPort) else {
            stop()
            throw FixtureError("Postfix did not listen on \(port): \(log)")
        }
    }

    public func stop() {
        guard running else { return }
        running = false
        let pidFile = directory.path + "/queue/pid/master.pid"
        let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        _ = try? PeerProgram.run(postfix, ["-c", configDirectory, "stop"])
        if let pid {
            if !waitUntil(timeout: 15, { kill(pid, 0) != 0 }) {
                kill(pid, SIGKILL)
            }
        }
    }

    deinit { stop() }

    /// The messages delivered to demo@example.com.
    public var delivered: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []
        return names.sorted().compactMap { try? String(contentsOfFile: maildir + "/" + $0, encoding: .utf8) }
    }

    /// The leaf certificate's SHA-256 fingerprint as `AB:CD:…`.
    public func leafFingerprint() throws -> String {
        let output = try certificates.openssl("x509", "-in", hierarchy.leaf, "-noout", "-fingerprint", "-sha256")
        guard let value = output.split(separator: "=").last else { throw FixtureError("no fingerprint in \(output)") }
        return value.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func uid(_ name: String) -> uid_t { getpwnam(name)?.pointee.pw_uid ?? 0 }
    private static func gid(_ name: String) -> gid_t { getpwnam(name)?.pointee.pw_gid ?? 0 }
}
