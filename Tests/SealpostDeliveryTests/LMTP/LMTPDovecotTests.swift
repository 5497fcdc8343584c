import Foundation
import NIOPosix
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// LMTP into a real Dovecot (dovecot-core and dovecot-lmtpd) over its UNIX-domain socket and over
/// TCP: LHLO, a reply per recipient after the final dot, mail in the users' Maildirs, and an
/// unknown user refused with Dovecot's text.
@Suite("LMTP client against Dovecot", .serialized)
struct LMTPDovecotTests {
    /// Dovecot with only LMTP, users from a passwd-file, Maildirs under the temporary directory.
    final class Dovecot {
        let directory: TemporaryDirectory
        let port: Int
        let process: ChildProcess
        var socketPath: String { directory.path + "/lmtp" }

        init?(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            guard let executable = ClientPeer.require("dovecot", package: "dovecot-core", sourceLocation: sourceLocation) else { return nil }
            guard FileManager.default.fileExists(atPath: "/usr/lib/dovecot/lmtp") else {
                Issue.record("Dovecot's LMTP server is not installed: apt-get install -y dovecot-lmtpd", sourceLocation: sourceLocation)
                return nil
            }
            directory = try TemporaryDirectory()
            port = try freePort()
            let base = directory.path
            chmod(base, 0o755)
            for folder in ["run", "mail", "home"] {
                try FileManager.default.createDirectory(atPath: base + "/" + folder, withIntermediateDirectories: true)
                chmod(base + "/" + folder, 0o777)
            }
            let user = String(cString: getpwuid(geteuid()).pointee.pw_name)
            let group = String(cString: getgrgid(getegid()).pointee.gr_name)
            // Dovecot never delivers as root: the mailboxes belong to nobody when the tests run as root.
            let owner = geteuid() == 0 ? "uid=65534 gid=65534" : "uid=\(geteuid()) gid=\(getegid())"
            try "demo@example.com::::::\nother@example.com::::::\n".write(toFile: base + "/users", atomically: false, encoding: .utf8)
            try """
                base_dir = \(base)/run
                state_dir = \(base)/state
                log_path = \(base)/dovecot.log
                protocols = lmtp
                ssl = no
                first_valid_uid = 1
                default_internal_user = \(user)
                default_internal_group = \(group)
                default_login_user = \(user)
                mail_location = maildir:\(base)/mail/%u
                passdb {
                  driver = static
                  args = nopassword=y
                }
                userdb {
                  driver = passwd-file
                  args = \(base)/users
                  default_fields = \(owner) home=\(base)/home/%u
                }
                service lmtp {
                  unix_listener \(base)/lmtp {
                    mode = 0666
                  }
                  inet_listener lmtp {
                    address = 127.0.0.1
                    port = \(port)
                  }
                }

                """.write(toFile: base + "/dovecot.conf", atomically: false, encoding: .utf8)
            process = try ChildProcess(executable, ["-F", "-c", base + "/dovecot.conf"], output: base + "/stderr.log")
            guard waitForListener(port: port), process.isRunning else {
                throw FixtureError("dovecot did not start: \(log)")
            }
        }

        deinit { process.stop() }

        var log: String {
            ((try? String(contentsOfFile: directory.path + "/dovecot.log", encoding: .utf8)) ?? "")
                + ((try? String(contentsOfFile: directory.path + "/stderr.log", encoding: .utf8)) ?? "")
        }

        func delivered(to user: String) -> [String] {
            let folder = directory.path + "/mail/\(user)/new"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return names.sorted().compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
        }
    }

    static let message = "From: sender@client.example.org\r\nTo: demo@example.com\r\nSubject: lmtp\r\n\r\n.dot line\r\nbody\r\n"

    static func agent(_ main: String = "") throws -> SMTPDeliveryAgent {
        try LMTPDeliveryAgent.make(
            clientConfiguration(main), resolver: FakeResolver(), group: MultiThreadedEventLoopGroup.singleton,
            logger: RecordingLog().logger)
    }

    @Test("unix:/path: two users get the message, each with its own reply after the dot; an unknown user is refused")
    func unixSocket() async throws {
        guard let dovecot = try Dovecot() else { return }
        let agent = try Self.agent("lmtp_connection_cache_on_demand = no\n")
        let message = try await QueuedTestMessage(
            recipients: ["demo@example.com", "nobody@example.com", "other@example.com"], content: Self.message)
        let report = await agent.deliver(try message.request(transport: "lmtp", nexthop: "unix:\(dovecot.socketPath)"))
        #expect(report.results.count == 3)
        let byIndex = Dictionary(uniqueKeysWithValues: report.results.map { ($0.index, $0) })
        for index in [0, 2] {
            let result = try #require(byIndex[index])
            #expect(result.status == .sent, "\(result)\n\(dovecot.log)")
            #expect(result.text.hasPrefix("250 2.0.0 <\(index == 0 ? "demo" : "other")@example.com> "), "\(result.text)")
            #expect(result.text.hasSuffix(" Saved"))
            #expect(result.relay == "client.example.org[\(dovecot.socketPath)]")
            #expect(result.diagnostic?.hasPrefix("lmtp; 250 2.0.0") == true)
            // Dovecot announces no DSN, and lmtp_assume_final is off: relayed, as Postfix says.
            #expect(result.action == .relayed)
        }
        let refused = try #require(byIndex[1])
        #expect(refused.status == .bounced)
        #expect(refused.dsn == "5.1.1")
        #expect(refused.text == "host client.example.org[\(dovecot.socketPath)] said: 550 5.1.1 <nobody@example.com> User doesn't exist: nobody@example.com (in reply to RCPT TO command)")
        for user in ["demo@example.com", "other@example.com"] {
            let mails = dovecot.delivered(to: user)
            #expect(mails.count == 1, "\(user): \(dovecot.log)")
            #expect(mails.first?.contains("\n.dot line\nbody\n") == true, "\(mails)")
        }
    }

    @Test("inet:host:port: delivered over TCP")
    func tcp() async throws {
        guard let dovecot = try Dovecot() else { return }
        let agent = try Self.agent("lmtp_assume_final = yes\n")
        defer { agent.shutdown() }
        let message = try await QueuedTestMessage(recipients: ["demo@example.com"], content: Self.message)
        let report = await agent.deliver(try message.request(transport: "lmtp", nexthop: "inet:127.0.0.1:\(dovecot.port)"))
        let result = try #require(report.results.first)
        #expect(result.status == .sent, "\(result)\n\(dovecot.log)")
        #expect(result.relay == "127.0.0.1[127.0.0.1]:\(dovecot.port)")
        #expect(result.action == .delivered, "lmtp_assume_final = yes")
        #expect(dovecot.delivered(to: "demo@example.com").count == 1)
    }
}
