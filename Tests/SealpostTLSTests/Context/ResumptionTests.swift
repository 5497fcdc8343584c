import Foundation
import SealpostTestSupport
import Synchronization
import Testing

@testable import SealpostTLS

/// Session resumption: TLS 1.2 session IDs and tickets, TLS 1.3 tickets, the timeout, the Sealpost ticket key file.
@Suite("Server context: session resumption")
struct ResumptionTests {
    /// `-reconnect`: one full handshake, then five with the same session.
    func reconnect(_ context: TLSContext, _ extra: [String] = []) throws -> (resumed: [Bool], output: ExternalTool.Output) {
        let server = try BlockingTLSServer(context: context, connections: 6)
        let output = try SClient.run(server, ["-tls1_2", "-reconnect"] + extra)
        let outcomes = server.finish(timeout: 20)
        return (outcomes.compactMap { $0.info?.isResumed }, output)
    }

    /// A TLS 1.3 session saved by one s_client run (`-sess_out`) and offered by the next (`-sess_in`).
    func resumeTLS13(first: TLSContext, second: TLSContext, _ extra: [String] = []) throws -> (Bool?, ExternalTool.Output) {
        let directory = try TemporaryDirectory()
        let file = directory.path + "/session.pem"
        let (initial, initialOutput) = try SClient.handshake(first, ["-sess_out", file] + extra)
        #expect(initial?.info?.isResumed == false, "\(initialOutput.all)")
        guard FileManager.default.fileExists(atPath: file) else { return (false, initialOutput) }
        let (again, output) = try SClient.handshake(second, ["-sess_in", file] + extra)
        return (again?.info?.isResumed, output)
    }

    @Test("TLS 1.2: -reconnect resumes (session tickets)")
    func tls12Tickets() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let (resumed, output) = try reconnect(serverContext(material.rsaServer))
        #expect(resumed == [false, true, true, true, true, true], "\(output.all)")
        #expect(SClient.sessions(output).filter { $0.hasPrefix("Reused, TLSv1.2") }.count >= 5)
    }

    @Test("TLS 1.2: without tickets the session ID cache resumes")
    func tls12SessionIDs() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + "tls_session_ticket_cipher =\n")
        let (resumed, output) = try reconnect(context)
        #expect(resumed == [false, true, true, true, true, true], "\(output.all)")
        let (noTicketOffered, _) = try reconnect(serverContext(material.rsaServer), ["-no_ticket"])
        #expect(noTicketOffered == [false, true, true, true, true, true])
    }

    @Test("timeout 0 disables TLS 1.2 resumption, by ticket and by session ID")
    func tls12Disabled() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + "smtpd_tls_session_cache_timeout = 0\n")
        let (resumed, output) = try reconnect(context)
        #expect(resumed == [false, false, false, false, false, false], "\(output.all)")
        #expect(SClient.sessions(output).allSatisfy { $0.hasPrefix("New, ") })
        let (noTicket, _) = try reconnect(context, ["-no_ticket"])
        #expect(noTicket == [false, false, false, false, false, false])
    }

    @Test("TLS 1.3: -sess_out then -sess_in resumes; timeout 0 does not")
    func tls13() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer)
        let (resumed, output) = try resumeTLS13(first: context, second: context)
        #expect(resumed == true, "\(output.all)")
        #expect(SClient.sessions(output).first?.hasPrefix("Reused, TLSv1.3") == true)

        let disabled = try serverContext(material.rsaServer + "smtpd_tls_session_cache_timeout = 0s\n")
        let (again, againOutput) = try resumeTLS13(first: disabled, second: disabled)
        #expect(again != true, "\(againOutput.all)")
    }

    @Test("smtpd_tls_tls13_session_tickets = no: no TLS 1.3 ticket, TLS 1.2 still resumes")
    func noTLS13Tickets() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + "smtpd_tls_tls13_session_tickets = no\n")
        let (initial, output) = try SClient.handshake(context, [])
        #expect(initial?.info?.protocolVersion == "TLSv1.3")
        #expect(!output.stdout.contains("Post-Handshake New Session Ticket arrived"), "\(output.stdout)")
        let (resumed, _) = try resumeTLS13(first: context, second: context)
        #expect(resumed != true)
        let (tls12, _) = try reconnect(context)
        #expect(tls12 == [false, true, true, true, true, true])
        // By default exactly one ticket is issued per handshake (tls_server.c: SSL_CTX_set_num_tickets(ctx, 1)).
        let (_, defaultOutput) = try SClient.handshake(serverContext(material.rsaServer), [])
        #expect(defaultOutput.stdout.components(separatedBy: "Post-Handshake New Session Ticket arrived").count - 1 == 1)
    }

    @Test("a short timeout becomes 2 minutes; the session lifetime is twice the timeout")
    func timeoutRules() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        #expect(try serverSettings(material.rsaServer + "smtpd_tls_session_cache_timeout = 30s\n").sessionCacheTimeout == 120)
        #expect(try serverSettings(material.rsaServer + "smtpd_tls_session_cache_timeout = 0\n").sessionCacheTimeout == 0)
        #expect(try serverSettings(material.rsaServer + "smtpd_tls_session_cache_timeout = 100d\n").sessionCacheTimeout == 8_640_000)
        let context = try serverContext(material.rsaServer + "smtpd_tls_session_cache_timeout = 2h\n")
        let (_, output) = try SClient.handshake(context, ["-tls1_2"])
        #expect(SClient.field("TLS session ticket lifetime hint:", in: output.stdout) == "14400 (seconds)", "\(output.stdout)")
    }

    @Test("the ticket key file: a session issued by one context resumes on another (two nodes)")
    func sharedTicketKeys() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let keys = try material.fixtures.write(
            "tickets.keys", "# current key first\n" + (try material.fixtures.openssl("rand", "-hex", "80"))
                + (try material.fixtures.openssl("rand", "-hex", "80")))
        let lines = material.rsaServer + "tls_session_ticket_key_file = \(keys)\n"
        let nodeA = try serverContext(lines)
        let nodeB = try serverContext(lines)
        let (tls13, output13) = try resumeTLS13(first: nodeA, second: nodeB)
        #expect(tls13 == true, "\(output13.all)")
        let (tls12, output12) = try resumeTLS13(first: nodeA, second: nodeB, ["-tls1_2"])
        #expect(tls12 == true, "\(output12.all)")

        // Without the file each context makes its own keys, and the other cannot decrypt them.
        let (separate, _) = try resumeTLS13(first: serverContext(material.rsaServer), second: serverContext(material.rsaServer))
        #expect(separate != true)
    }

    @Test("a ticket under the second key of the file resumes and is replaced by one under the first key")
    func retiredTicketKey() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let first = try material.fixtures.openssl("rand", "-hex", "80")
        let second = try material.fixtures.openssl("rand", "-hex", "80")
        let old = try material.fixtures.write("old.keys", second)
        let rotated = try material.fixtures.write("rotated.keys", first + second)
        let (resumed, output) = try resumeTLS13(
            first: serverContext(material.rsaServer + "tls_session_ticket_key_file = \(old)\n"),
            second: serverContext(material.rsaServer + "tls_session_ticket_key_file = \(rotated)\n"), ["-tls1_2"])
        #expect(resumed == true, "\(output.all)")
        // The session s_client ends with carries the fresh ticket, whose first 16 bytes are the key name.
        #expect(Self.ticketKeyName(output.stdout) == String(first.prefix(32)), "\(output.stdout)")
    }

    /// The first 16 bytes of the ticket s_client prints (`0000 - 53 0a 6f 5b 53 01 c1 02-d0 f4 …`), as hex.
    static func ticketKeyName(_ text: String) -> String? {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let index = lines.firstIndex(of: "TLS session ticket:"), index + 1 < lines.count else { return nil }
        let row = lines[index + 1]
        guard row.hasPrefix("0000 - ") else { return nil }
        return String(row.dropFirst(7).prefix(47)).replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "-", with: "")
    }

    @Test("bad ticket key files are refused with the file and line")
    func badTicketKeyFiles() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let short = try material.fixtures.write("short.keys", "abcd\n")
        let error = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "tls_session_ticket_key_file = \(short)\n")
        }
        #expect(error?.code == .invalidTicketKeyFile)
        #expect(error?.reason.contains("\(short) line 1: expected 160 hexadecimal digits") == true)
        let empty = try material.fixtures.write("empty.keys", "# nothing\n\n")
        #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "tls_session_ticket_key_file = \(empty)\n")
        }
        let missing = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "tls_session_ticket_key_file = \(material.directory)/none.keys\n")
        }
        #expect(missing?.reason == "tls_session_ticket_key_file: ticket key file \(material.directory)/none.keys does not exist")
        let key = try material.fixtures.openssl("rand", "-hex", "80")
        let duplicate = try material.fixtures.write("duplicate.keys", key + key)
        let duplicateError = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "tls_session_ticket_key_file = \(duplicate)\n")
        }
        #expect(duplicateError?.reason.contains("line 2: a second key with the same key name") == true)
        let readable = try material.fixtures.write("readable.keys", key, mode: 0o644)
        let settings = try serverSettings(material.rsaServer + "tls_session_ticket_key_file = \(readable)\n")
        #expect(settings.warnings.contains { $0.message.contains("accessible by group or others") })
    }

    @Test("the ticket cipher must be CBC with a 16-byte IV; an empty cipher turns tickets off")
    func ticketCipher() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        for bad in ["aes-256-gcm", "no-such-cipher", "des-ede3-cbc"] {
            let error = #expect(throws: TLSConfigurationError.self) {
                try serverContext(material.rsaServer + "tls_session_ticket_cipher = \(bad)\n")
            }
            #expect(error?.code == .invalidTicketCipher)
        }
        let aes128 = try serverContext(material.rsaServer + "tls_session_ticket_cipher = aes-128-cbc\n")
        let (resumed, _) = try resumeTLS13(first: aes128, second: aes128)
        #expect(resumed == true)
    }

    /// tlsmgr's rotation: a key encrypts for half the timeout, then only decrypts for another half.
    @Test("rotating ticket keys follow tlsmgr's schedule")
    func rotation() throws {
        let clock = Mutex(1_000_000)
        let cipher = try TLSTicketKeyStore.fetchCipher("aes-256-cbc", parameter: "tls_session_ticket_cipher")
        let store = TLSTicketKeyStore(
            cipher: cipher, cipherName: "aes-256-cbc", sessionTimeout: 3600, fixedKeys: nil, now: { clock.withLock { $0 } })
        let first = try #require(store.encryptionKey())
        #expect(first.expires == 1_000_000 + 1800 - 1)
        clock.withLock { $0 += 1000 }
        #expect(store.encryptionKey()?.key == first.key)
        clock.withLock { $0 += 800 }
        let second = try #require(store.encryptionKey())
        #expect(second.key != first.key)
        first.key.name.withUnsafeBufferPointer { name in
            #expect(store.decryptionKey(named: name.baseAddress!)?.isCurrent == false)
        }
        clock.withLock { $0 += 1800 }
        first.key.name.withUnsafeBufferPointer { name in
            #expect(store.decryptionKey(named: name.baseAddress!) == nil)
        }
    }
}
