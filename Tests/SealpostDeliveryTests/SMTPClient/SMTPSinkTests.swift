import Foundation
import SealpostDNS
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// Postfix's smtp-sink (no STARTTLS) as the server: plaintext at `may`, refusals at `encrypt` and
/// `verify` with nothing sent in clear, dot-stuffing that arrives intact, refused connections,
/// connection reuse.
@Suite("SMTP client against smtp-sink", .serialized)
struct SMTPSinkTests {
    /// smtp-sink on a random port, dumping each transaction into its own file and its dialogue (`-v`)
    /// to a log.
    final class Sink {
        let directory: TemporaryDirectory
        let port: Int
        let process: ChildProcess

        init?(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            guard let executable = ClientPeer.require("smtp-sink", package: "postfix", sourceLocation: sourceLocation) else { return nil }
            directory = try TemporaryDirectory()
            chmod(directory.path, 0o777)
            port = try freePort()
            var arguments = ["-v", "-d", directory.path + "/dump/%M."]
            if geteuid() == 0 { arguments += ["-u", "nobody"] }
            process = try ChildProcess(executable, arguments + ["127.0.0.1:\(port)", "10"], output: directory.path + "/dialogue.log")
            guard waitForListener(port: port) else { throw FixtureError("smtp-sink did not listen on \(port)") }
        }

        deinit { process.stop() }

        /// The dumped transactions.
        var dumps: [String] {
            let folder = directory.path + "/dump"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return names.sorted().compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
        }

        /// The commands smtp-sink received, as its -v log shows them.
        var dialogue: String { (try? String(contentsOfFile: directory.path + "/dialogue.log", encoding: .utf8)) ?? "" }
    }

    static let message = "From: a@client.example.org\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n.leading dot\r\n.\r\n..two dots\r\nlast line\r\n"

    @Test("may: plaintext delivery; the dump shows the envelope and the body with its dots intact")
    func mayDeliversInPlaintext() async throws {
        guard let sink = try Sink() else { return }
        let log = RecordingLog()
        let agent = try makeAgent("smtp_tls_security_level = may\nsmtp_connection_cache_on_demand = no\n", log: log)
        let message = try await QueuedTestMessage(recipients: ["b@example.com", "c@example.com"], content: Self.message)
        let report = await agent.deliver(try message.request(nexthop: "example.com:\(sink.port)"))
        #expect(report.results.count == 2)
        for result in report.results {
            #expect(result.status == .sent, "\(result)")
            #expect(result.relay == "mx.example.com[127.0.0.1]:\(sink.port)")
            #expect(result.text == "250 2.0.0 Ok")
            #expect(result.diagnostic == "smtp; 250 2.0.0 Ok")
            #expect(result.remoteMTA == "dns; mx.example.com")
            // smtp-sink announces DSN: the action is delivered, not relayed.
            #expect(result.action == .delivered)
        }
        #expect(waitUntil(timeout: 10) { sink.dumps.count == 1 })
        let dump = try #require(sink.dumps.first)
        #expect(dump.contains("X-Mail-Args: <sender@client.example.org>"))
        #expect(dump.contains("X-Rcpt-Args: <b@example.com>"))
        #expect(dump.contains("X-Rcpt-Args: <c@example.com>"))
        #expect(dump.contains("Subject: dots\n\n.leading dot\n.\n..two dots\nlast line\n"), "\(dump)")
    }

    @Test("encrypt and verify: deferred with Postfix's reason, and no MAIL FROM ever reaches the server")
    func encryptAndVerifyDefer() async throws {
        guard let sink = try Sink() else { return }
        for level in ["encrypt", "verify"] {
            let agent = try makeAgent("smtp_tls_security_level = \(level)\n")
            let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
            let report = await agent.deliver(try message.request(nexthop: "example.com:\(sink.port)"))
            let result = try #require(report.results.first)
            #expect(result.status == .deferred)
            #expect(result.dsn == "4.7.4")
            #expect(result.text == "TLS is required, but was not offered by host mx.example.com[127.0.0.1]")
        }
        #expect(waitUntil(timeout: 5) { sink.dialogue.contains("QUIT") })
        #expect(sink.dumps.isEmpty)
        #expect(!sink.dialogue.contains("MAIL"), "\(sink.dialogue)")
        #expect(!sink.dialogue.contains("DATA"))
    }

    @Test("nothing listening: Postfix's connect failure text, deferred, relay=none")
    func connectionRefused() async throws {
        let port = try freePort()
        let agent = try makeAgent("")
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let report = await agent.deliver(try message.request(nexthop: "[127.0.0.1]:\(port)"))
        let result = try #require(report.results.first)
        #expect(result.status == .deferred)
        #expect(result.dsn == "4.4.1")
        #expect(result.text == "connect to 127.0.0.1[127.0.0.1]:\(port): Connection refused")
        #expect(result.relay == "none")
    }

    @Test("the first MX refuses connections: the next one takes the mail")
    func fallsBackToTheNextMX() async throws {
        guard let sink = try Sink() else { return }
        let resolver = FakeResolver(
            exchangers: ["example.com": .found([
                MailExchangerFixture.make(10, "down.example.com"), MailExchangerFixture.make(20, "mx.example.com"),
            ], authenticated: false)],
            hosts: ["down.example.com": .found(["127.0.0.2"], authenticated: false), "mx.example.com": .found(["127.0.0.1"], authenticated: false)])
        let log = RecordingLog()
        let agent = try makeAgent("", resolver: resolver, log: log)
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let report = await agent.deliver(try message.request(nexthop: "example.com:\(sink.port)"))
        let result = try #require(report.results.first)
        #expect(result.status == .sent, "\(result)")
        #expect(result.relay == "mx.example.com[127.0.0.1]:\(sink.port)")
        #expect(log.messages.contains("info: connect to down.example.com[127.0.0.2]:\(sink.port): Connection refused"), "\(log.messages)")
    }

    @Test("null MX bounces with Postfix's text; an MX lookup failure defers")
    func nullMXAndLookupFailure() async throws {
        let resolver = FakeResolver(exchangers: ["null.example": .nullMX, "broken.example": .temporaryFailure("SERVFAIL")])
        let agent = try makeAgent("", resolver: resolver)
        let message = try await QueuedTestMessage(recipients: ["b@null.example"], content: Self.message)
        let bounced = try #require(await agent.deliver(try message.request(nexthop: "null.example")).results.first)
        #expect(bounced.status == .bounced)
        #expect(bounced.dsn == "5.1.10")
        #expect(bounced.text == "Domain null.example does not accept mail (nullMX)")
        let deferred = try #require(await agent.deliver(try message.request(nexthop: "broken.example")).results.first)
        #expect(deferred.status == .deferred)
        #expect(deferred.text == "Host or domain name not found. Name service error for name=broken.example type=MX: Host not found, try again")
    }

    @Test("a second message to the same destination reuses the connection after an RSET probe")
    func connectionReuse() async throws {
        guard let sink = try Sink() else { return }
        let agent = try makeAgent("smtp_connection_cache_time_limit = 30s\n")
        defer { agent.shutdown() }
        for _ in 0..<2 {
            let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
            let report = await agent.deliver(try message.request(nexthop: "example.com:\(sink.port)"))
            #expect(report.results.first?.status == .sent)
        }
        #expect(agent.cachedConnectionCount == 1)
        #expect(waitUntil(timeout: 10) { sink.dumps.count == 2 })
        let dialogue = sink.dialogue
        #expect(dialogue.components(separatedBy: "EHLO ").count - 1 == 1, "\(dialogue)")
        #expect(dialogue.contains("RSET"))
    }
}

enum MailExchangerFixture {
    static func make(_ preference: UInt16, _ host: String) -> SealpostDNS.MailExchanger {
        SealpostDNS.MailExchanger(preference: preference, host: host)
    }
}

extension SMTPSinkTests {
    @Test("smtp_sasl_password_maps keyed by [host]:port: AUTH PLAIN before MAIL FROM")
    func saslAuthentication() async throws {
        guard let sink = try Sink() else { return }
        let main = """
            smtp_sasl_auth_enable = yes
            smtp_sasl_security_options = noanonymous
            smtp_sasl_password_maps = inline:{ [127.0.0.1]:\(sink.port)=relayuser:relaysecret }

            """
        let agent = try makeAgent(main)
        defer { agent.shutdown() }
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let result = try #require(await agent.deliver(try message.request(nexthop: "[127.0.0.1]:\(sink.port)")).results.first)
        #expect(result.status == .sent, "\(result)")
        #expect(waitUntil(timeout: 5) { sink.dialogue.contains("MAIL FROM") })
        let dialogue = sink.dialogue
        let auth = try #require(dialogue.range(of: "AUTH PLAIN AHJlbGF5dXNlcgByZWxheXNlY3JldA=="), "\(dialogue)")
        let mail = try #require(dialogue.range(of: "MAIL FROM"))
        #expect(auth.lowerBound < mail.lowerBound)

        // Keyed by the host name of the MX host being tried.
        let byHost = try makeAgent("""
            smtp_sasl_auth_enable = yes
            smtp_sasl_security_options = noanonymous
            smtp_sasl_password_maps = inline:{ mx.example.com=hostuser:hostpass }

            """)
        defer { byHost.shutdown() }
        #expect(await byHost.deliver(try message.request(nexthop: "example.com:\(sink.port)")).results.first?.status == .sent)
        #expect(waitUntil(timeout: 5) { sink.dialogue.contains("AUTH PLAIN AGhvc3R1c2VyAGhvc3RwYXNz") })
    }
}

extension SMTPSinkTests {
    @Test("a domain without MX records: its own address is the implicit MX")
    func implicitMX() async throws {
        guard let sink = try Sink() else { return }
        let resolver = FakeResolver(hosts: ["example.net": .found(["127.0.0.1"], authenticated: false)])
        let agent = try makeAgent("smtp_connection_cache_on_demand = no\n", resolver: resolver)
        let message = try await QueuedTestMessage(recipients: ["b@example.net"], content: Self.message)
        let result = try #require(await agent.deliver(try message.request(nexthop: "example.net:\(sink.port)")).results.first)
        #expect(result.status == .sent)
        #expect(result.relay == "example.net[127.0.0.1]:\(sink.port)")
        let unknown = try #require(await agent.deliver(try message.request(nexthop: "nowhere.example")).results.first)
        #expect(unknown.status == .bounced)
        #expect(unknown.text == "Host or domain name not found. Name service error for name=nowhere.example type=A: Host not found")
    }

    @Test("smtp_mx_address_limit: only that many addresses are tried; the last reason is reported")
    func addressLimit() async throws {
        let port = try freePort()
        let resolver = FakeResolver(
            exchangers: ["example.com": .found([MailExchanger(preference: 10, host: "mx.example.com")], authenticated: false)],
            hosts: ["mx.example.com": .found(["127.0.0.2", "127.0.0.3", "127.0.0.4"], authenticated: false)])
        let log = RecordingLog()
        let agent = try makeAgent("smtp_mx_address_limit = 2\n", resolver: resolver, log: log)
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(port)")).results.first)
        #expect(result.status == .deferred)
        #expect(result.text == "connect to mx.example.com[127.0.0.3]:\(port): Connection refused")
        #expect(log.messages.filter { $0.hasPrefix("info: connect to ") }.count == 2)
    }

    @Test("smtp_bind_address: the connection comes from the given address")
    func bindAddress() async throws {
        guard let sink = try Sink() else { return }
        let agent = try makeAgent("smtp_bind_address = 127.0.0.2\nsmtp_connection_cache_on_demand = no\n")
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        #expect(await agent.deliver(try message.request(nexthop: "example.com:\(sink.port)")).results.first?.status == .sent)
        #expect(waitUntil(timeout: 10) { sink.dumps.count == 1 })
        #expect(sink.dumps.first?.hasPrefix("X-Client-Addr: 127.0.0.2\n") == true, "\(sink.dumps)")
    }
}
