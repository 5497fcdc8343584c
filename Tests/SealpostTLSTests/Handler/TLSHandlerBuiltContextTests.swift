import NIOCore
import Testing

@testable import SealpostTLS

/// The handler with contexts made by the context builders from main.cf text, as the SMTP server
/// and client will use it: Postfix's trust levels, name matching and the client session cache.
@Suite("TLS handler with builder-made contexts")
struct TLSHandlerBuiltContextTests {
    static func contexts(_ shared: SharedContexts) throws -> (server: TLSContext, client: TLSContext) {
        let material = shared.material.server
        let server = try serverContext("""
            smtpd_tls_security_level = may
            smtpd_tls_chain_files = \(material.leafKey), \(material.fullchain)
            """ + "\n")
        let client = try TLSClientContextBuilder.makeContext(TLSClientSettings(serviceConfiguration("""
            smtp_tls_security_level = verify
            smtp_tls_CAfile = \(material.root)
            smtp_tls_session_cache_timeout = 3600s
            """ + "\n")))
        return (server, client)
    }

    static func destination(hostname: String) -> TLSClientDestination {
        TLSClientDestination(nexthop: "example.com", hostname: hostname, address: "192.0.2.25", port: 25)
    }

    /// A pair whose client handler is made for `destination` by the client context.
    static func pair(_ contexts: (server: TLSContext, client: TLSContext), hostname: String) throws -> TLSChannelPair {
        try TLSChannelPair(
            serverHandler: TLSHandler(context: contexts.server),
            clientHandler: TLSHandler(context: contexts.client, destination: destination(hostname: hostname)))
    }

    @Test("verify level: the server's name matches, the session is Verified, the next one resumes from the cache")
    func verifiedAndResumed() throws {
        guard let shared = try SharedContexts.get() else { return }
        let contexts = try Self.contexts(shared)
        let first = try Self.pair(contexts, hostname: "mail.example.com")
        try first.handshake()
        let result = try #require(first.clientEvents.handshakes.first)
        #expect(result.session.trust == .verified)
        #expect(result.session.matched)
        #expect(result.session.summaryLine(peer: "mail.example.com[192.0.2.25]:25").hasPrefix(
            "Verified TLS connection established to mail.example.com[192.0.2.25]:25: TLSv1.3 with cipher "))
        // TLS 1.3 tickets come after the handshake; a reply from the server brings them in.
        _ = first.write("220 mail.example.com ESMTP\r\n", from: first.server)
        try first.interact()
        #expect(contexts.client.clientSessionCache?.count == 1)

        let second = try Self.pair(contexts, hostname: "mail.example.com")
        try second.handshake()
        #expect(second.clientEvents.handshakes.first?.isResumed == true)
        #expect(second.serverEvents.handshakes.first?.isResumed == true)
    }

    @Test("verify level: a certificate for another name leaves the session Untrusted, as in Postfix")
    func nameMismatch() throws {
        guard let shared = try SharedContexts.get() else { return }
        let contexts = try Self.contexts(shared)
        let pair = try Self.pair(contexts, hostname: "mx.other.example")
        try pair.handshake()
        // Postfix completes the handshake and judges the match afterwards: the SMTP client defers
        // delivery when a level that requires a match did not get one.
        let result = try #require(pair.clientEvents.handshakes.first)
        #expect(result.session.trust == .untrusted)
        #expect(!result.session.matched)
        #expect(result.session.verifyResultText == "hostname mismatch")
        #expect(!result.peerCertificateVerified)
        #expect(pair.clientEvents.errors.isEmpty)
    }
}
