import Foundation
import SealpostDNS
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// The client over real sockets against a scripted server: ESMTP parameters by what the server
/// announces, the plaintext retry after a failed handshake at `may`, timeouts and lost
/// connections, a 4xx recipient moved on to the next MX host, long lines folded.
@Suite("SMTP client against a scripted server", .serialized)
struct ScriptedServerTests {
    static let message = "From: sender@client.example.org\r\nTo: b@example.com\r\nSubject: scripted\r\n\r\nbody\r\n"

    @Test("no DSN announced: no RET, ENVID, NOTIFY or ORCPT, and the DSN action is relayed; SIZE and BODY when announced")
    func withoutDSN() async throws {
        let server = try await ScriptedSMTPServer { _, line in
            ScriptedSMTPServer.standardReply(line, ehlo: ["SIZE 10000000", "8BITMIME", "PIPELINING"])
        }
        defer { Task { await server.close() } }
        let agent = try makeAgent("smtp_connection_cache_on_demand = no\n")
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message) { envelope in
            envelope.bodyType = .eightBitMIME
            envelope.envelopeID = "QUEUE-1"
            envelope.returnContent = .full
            envelope.recipients[0].notify = [.failure]
            envelope.recipients[0].originalRecipient = "rfc822;b@example.com"
        }
        let report = await agent.deliver(try message.request(nexthop: "example.com:\(server.port)"))
        let result = try #require(report.results.first)
        #expect(result.status == .sent)
        #expect(result.text == "250 2.0.0 Ok: queued as TEST")
        #expect(result.action == .relayed)
        let lines = server.commands.map(\.line)
        #expect(lines.contains("MAIL FROM:<sender@client.example.org> SIZE=\(Self.message.utf8.count) BODY=8BITMIME"), "\(lines)")
        #expect(lines.contains("RCPT TO:<b@example.com>"))
        #expect(server.messages.first == "From: sender@client.example.org\nTo: b@example.com\nSubject: scripted\n\nbody\n")
    }

    @Test("may: a failed TLS handshake is retried once in plaintext on the same server, for mail that has waited")
    func plaintextRetry() async throws {
        let server = try await ScriptedSMTPServer { _, line in
            // Agrees to STARTTLS, then hangs up: the handshake fails.
            if line == "STARTTLS" { return "220 2.0.0 Ready to start TLS\r\n<close>" }
            return ScriptedSMTPServer.standardReply(line, ehlo: ["STARTTLS", "PIPELINING"])
        }
        defer { Task { await server.close() } }
        let log = RecordingLog()
        let agent = try makeAgent("smtp_tls_security_level = may\nsmtp_connection_cache_on_demand = no\n", log: log)
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let result = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first)
        #expect(result.status == .sent, "\(result) \(log.messages)")
        #expect(server.connectionCount == 2)
        #expect(!server.commands.contains { $0.connection == 1 && $0.line == "STARTTLS" })
        #expect(log.messages.contains { $0.contains("Cannot start TLS: handshake failure; retrying mx.example.com[127.0.0.1]:\(server.port) without TLS") },
                "\(log.messages)")

        // A message that has not yet waited minimal_backoff_time is deferred instead, as in Postfix.
        let fresh = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)", arrival: .now())).results.first)
        #expect(fresh.status == .deferred)
        #expect(fresh.text == "Cannot start TLS: handshake failure")
        #expect(server.messages.count == 1)

        // encrypt never falls back.
        let strict = try makeAgent("smtp_tls_security_level = encrypt\nsmtp_connection_cache_on_demand = no\n")
        let refused = try #require(await strict.deliver(try message.request(nexthop: "[127.0.0.1]:\(server.port)")).results.first)
        #expect(refused.status == .deferred)
        #expect(refused.text == "Cannot start TLS: handshake failure")
        #expect(server.messages.count == 1)
    }

    @Test("a server that never greets: Postfix's timeout text; one that hangs up mid-reply: lost connection")
    func timeoutAndLostConnection() async throws {
        let silent = try await ScriptedSMTPServer(greeting: nil) { _, _ in nil }
        defer { Task { await silent.close() } }
        let agent = try makeAgent("smtp_helo_timeout = 1s\n")
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: Self.message)
        let timedOut = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(silent.port)")).results.first)
        #expect(timedOut.status == .deferred)
        #expect(timedOut.dsn == "4.4.2")
        #expect(timedOut.text == "conversation with mx.example.com[127.0.0.1] timed out while receiving the initial server greeting")

        let rude = try await ScriptedSMTPServer { _, line in
            line.hasPrefix("EHLO") ? "250-scripted.example\r\n250-PIPEL<close>" : ScriptedSMTPServer.standardReply(line, ehlo: [])
        }
        defer { Task { await rude.close() } }
        let lost = try #require(await agent.deliver(try message.request(nexthop: "example.com:\(rude.port)")).results.first)
        #expect(lost.status == .deferred)
        #expect(lost.text == "lost connection with mx.example.com[127.0.0.1] while performing the EHLO handshake")
        #expect(lost.relay == "mx.example.com[127.0.0.1]:\(rude.port)")
    }

    @Test("a recipient deferred by the first MX host is delivered by the next; a 5xx is final")
    func softRecipientMovesOn() async throws {
        let first = try await ScriptedSMTPServer { _, line in
            if line.hasPrefix("RCPT TO:<soft@") { return "450 4.2.0 <soft@example.com>: Recipient address rejected: Greylisted\r\n" }
            if line.hasPrefix("RCPT TO:<hard@") { return "550 5.1.1 <hard@example.com>: Recipient address rejected: User unknown\r\n" }
            return ScriptedSMTPServer.standardReply(line, ehlo: ["PIPELINING"])
        }
        defer { Task { await first.close() } }
        let second = try await ScriptedSMTPServer(host: "127.0.0.2", port: first.port) { _, line in
            ScriptedSMTPServer.standardReply(line, ehlo: [])
        }
        defer { Task { await second.close() } }
        let resolver = FakeResolver(
            exchangers: ["example.com": .found([
                MailExchanger(preference: 10, host: "mx1.example.com"), MailExchanger(preference: 20, host: "mx2.example.com"),
            ], authenticated: false)],
            hosts: ["mx1.example.com": .found(["127.0.0.1"], authenticated: false), "mx2.example.com": .found(["127.0.0.2"], authenticated: false)])
        let agent = try makeAgent("smtp_connection_cache_on_demand = no\n", resolver: resolver)
        let message = try await QueuedTestMessage(recipients: ["ok@example.com", "soft@example.com", "hard@example.com"], content: Self.message)
        let report = await agent.deliver(try message.request(nexthop: "example.com:\(first.port)"))
        let byIndex = Dictionary(uniqueKeysWithValues: report.results.map { ($0.index, $0) })
        #expect(byIndex[0]?.status == .sent)
        #expect(byIndex[0]?.relay == "mx1.example.com[127.0.0.1]:\(first.port)")
        #expect(byIndex[1]?.status == .sent)
        #expect(byIndex[1]?.relay == "mx2.example.com[127.0.0.2]:\(first.port)")
        #expect(byIndex[2]?.status == .bounced)
        #expect(byIndex[2]?.text == "host mx1.example.com[127.0.0.1] said: 550 5.1.1 <hard@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command)")
        #expect(second.commands.filter { $0.line.hasPrefix("RCPT") }.map(\.line) == ["RCPT TO:<soft@example.com>"])
    }

    @Test("a message of several hundred kilobytes streams through intact, every dot line unstuffed by the server")
    func largeMessage() async throws {
        let server = try await ScriptedSMTPServer { _, line in ScriptedSMTPServer.standardReply(line, ehlo: ["PIPELINING"]) }
        defer { Task { await server.close() } }
        let agent = try makeAgent("smtp_connection_cache_on_demand = no\n")
        let body = (0..<20_000).map { ".line \($0) of a long message\r\n" }.joined()
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: "Subject: big\r\n\r\n" + body)
        #expect(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first?.status == .sent)
        #expect(server.messages.first == "Subject: big\n\n" + body.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    @Test("lines longer than smtp_line_length_limit arrive folded with CR LF SPACE")
    func longLinesFolded() async throws {
        let server = try await ScriptedSMTPServer { _, line in ScriptedSMTPServer.standardReply(line, ehlo: []) }
        defer { Task { await server.close() } }
        let agent = try makeAgent("smtp_line_length_limit = 40\n")
        defer { agent.shutdown() }
        let long = String(repeating: "x", count: 100)
        let message = try await QueuedTestMessage(recipients: ["b@example.com"], content: "Subject: long\r\n\r\n\(long)\r\n")
        #expect(await agent.deliver(try message.request(nexthop: "example.com:\(server.port)")).results.first?.status == .sent)
        let x = Character("x")
        #expect(server.messages.first == "Subject: long\n\n" + String(repeating: x, count: 40) + "\n " + String(repeating: x, count: 39) + "\n " + String(repeating: x, count: 21) + "\n")
    }
}
