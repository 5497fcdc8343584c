import COpenSSL
import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostTLS

/// Sealpost's server and client contexts talking to each other through an OpenSSL BIO pair, and what their
/// callbacks leave behind: nothing.
@Suite("Contexts: lifetime and resources")
struct ContextLifetimeTests {
    /// One handshake between an `SSL` from each context over a BIO pair; both sides' session info, or nil.
    static func handshake(
        server: TLSContext, client: TLSContext, destination: TLSClientDestination
    ) throws -> (server: TLSSessionInfo, client: TLSSessionInfo)? {
        guard let serverSSL = SSL_new(server.pointer), let clientSSL = SSL_new(client.pointer) else { return nil }
        defer {
            SSL_free(serverSSL)
            SSL_free(clientSSL)
        }
        var serverBIO: OpaquePointer?
        var clientBIO: OpaquePointer?
        guard BIO_new_bio_pair(&serverBIO, 0, &clientBIO, 0) == 1 else { return nil }
        SSL_set_bio(serverSSL, serverBIO, serverBIO)
        SSL_set_bio(clientSSL, clientBIO, clientBIO)
        server.attachLogging(to: serverSSL, peerName: "localhost[127.0.0.1]")
        try client.prepareClientConnection(clientSSL, for: destination)
        SSL_set_accept_state(serverSSL)
        SSL_set_connect_state(clientSSL)
        var serverDone = false
        var clientDone = false
        for _ in 0..<100 where !(serverDone && clientDone) {
            if !clientDone {
                let result = SSL_do_handshake(clientSSL)
                if result == 1 { clientDone = true } else if SSL_get_error(clientSSL, result) != SSL_ERROR_WANT_READ { break }
            }
            if !serverDone {
                let result = SSL_do_handshake(serverSSL)
                if result == 1 { serverDone = true } else if SSL_get_error(serverSSL, result) != SSL_ERROR_WANT_READ { break }
            }
        }
        ERR_clear_error()
        guard serverDone && clientDone else { return nil }
        // Let the client read the server's TLS 1.3 ticket (it arrives after the handshake).
        var byte: UInt8 = 0
        _ = SSL_write(serverSSL, "x", 1)
        _ = SSL_read(clientSSL, &byte, 1)
        ERR_clear_error()
        return (server.sessionInfo(for: serverSSL), client.sessionInfo(for: clientSSL))
    }

    static func residentKiB() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
    }

    @Test("our client verifies our server, resumes from its cache, and both describe the same session")
    func clientAgainstServer() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try serverContext(material.rsaServer)
        let client = try TLSClientContextBuilder.makeContext(TLSClientSettings(serviceConfiguration(
            "smtp_tls_security_level = verify\nsmtp_tls_CAfile = \(material.caCertificate)\n")))
        let destination = TLSClientDestination(nexthop: "example.com", hostname: "mail.example.com", address: "127.0.0.1")
        let first = try #require(try Self.handshake(server: server, client: client, destination: destination))
        #expect(first.client.trust == .verified)
        #expect(first.server.trust == .anonymous)
        #expect(first.client.summaryLine(peer: "mail.example.com[127.0.0.1]:25") ==
            "Verified TLS connection established to mail.example.com[127.0.0.1]:25: TLSv1.3 with cipher "
            + "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256")
        #expect(client.clientSessionCache?.count == 1)
        let again = try #require(try Self.handshake(server: server, client: client, destination: destination))
        #expect(again.client.isResumed && again.server.isResumed)
        #expect(again.client.trust == .verified)
    }

    @Test("contexts and their callback state are freed: 300 contexts with handshakes leave the resident size flat",
        .disabled(if: underAddressSanitizer, "resident size under AddressSanitizer's quarantine says nothing; LeakSanitizer checks these runs"))
    func noLeaks() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let serverSettings = try serverSettings(material.rsaServer + "smtpd_tls_loglevel = 2\n")
        let clientSettings = try TLSClientSettings(serviceConfiguration("smtp_tls_security_level = may\n"))
        let destination = TLSClientDestination(nexthop: "example.com", hostname: "mail.example.com", address: "127.0.0.1")
        weak var releasedState: TLSContextState?
        func cycle() throws {
            let server = try TLSServerContextBuilder.makeContext(serverSettings)
            server.state.logSink = TLSLogSink { _ in }
            let client = try TLSClientContextBuilder.makeContext(clientSettings)
            releasedState = server.state
            for _ in 0..<2 {
                #expect(try Self.handshake(server: server, client: client, destination: destination) != nil)
            }
        }
        try cycle()
        #expect(releasedState == nil, "the SSL_CTX ex-data must release the context state")
        var checkpoints = [Self.residentKiB()]
        for _ in 0..<3 {
            for _ in 0..<100 { try cycle() }
            checkpoints.append(Self.residentKiB())
        }
        print("TLS context leak check: RSS \(checkpoints.map(String.init).joined(separator: " -> ")) KiB over 300 context pairs")
        #expect(checkpoints[3] - checkpoints[1] < 4096, "\(checkpoints)")
    }
}
