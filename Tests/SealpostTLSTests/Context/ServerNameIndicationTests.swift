import Foundation
import Testing

@testable import SealpostTLS

/// `tls_server_sni_maps` against `openssl s_client -servername`: the SNI name picks the chain (the name, then its
/// parent domains with a leading dot, as Postfix looks them up); no SNI or an unknown name gets the default chain.
@Suite("Server context: SNI chains from tls_server_sni_maps")
struct ServerNameIndicationTests {
    /// The default chain is the RSA `mail.example.com` one; `stranger.example.com` has its own chain file, and
    /// `.example.net` (any subdomain of example.net, not example.net itself) the wildcard chain.
    static func sniServer(_ material: ContextTestMaterial, extra: String = "") throws -> String {
        let f = material.fixtures
        try f.concatenate(["stranger.key", "stranger.pem"], into: "sni-stranger.pem")
        try f.concatenate(["wildcard.key", "wildcard.pem"], into: "sni-wildcard.pem")
        try f.write("sni", """
            # SNI name → chain files (key first, then the certificates)
            stranger.example.com \(f.path("sni-stranger.pem"))
            .example.net \(f.path("sni-wildcard.pem"))

            """, mode: 0o644)
        return material.rsaServer + "tls_server_sni_maps = texthash:\(f.path("sni"))\n" + extra
    }

    /// The fingerprint of the certificate s_client received, as `openssl x509 -fingerprint` prints it.
    static func peerFingerprint(_ output: ExternalTool.Output, material: ContextTestMaterial) throws -> String? {
        let text = output.stdout
        guard let begin = text.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = text.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<text.endIndex)
        else { return nil }
        let name = "peer-\(UUID().uuidString).pem"
        try material.fixtures.write(name, String(text[begin.lowerBound..<end.upperBound]) + "\n", mode: 0o644)
        return try material.opensslFingerprint(material.fixtures.path(name))
    }

    @Test("the SNI name selects its chain; a parent-domain entry serves subdomains; no SNI gets the default")
    func selection() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let collector = LineCollector()
        let context = try serverContext(try Self.sniServer(material), sink: collector.sink)
        let stranger = try material.opensslFingerprint(material.strangerCertificate)
        let wildcard = try material.opensslFingerprint(material.wildcardCertificate)
        let standard = try material.opensslFingerprint(material.rsaCertificate)

        let cases: [(arguments: [String], expected: String, label: String)] = [
            (["-servername", "stranger.example.com"], stranger, "exact name"),
            (["-servername", "STRANGER.Example.COM"], stranger, "case does not matter"),
            (["-servername", "a.b.example.net"], wildcard, ".example.net for a.b.example.net"),
            (["-servername", "example.net"], standard, "example.net itself is not .example.net"),
            (["-servername", "unknown.example.org"], standard, "unknown name"),
            (["-noservername"], standard, "no SNI"),
        ]
        for (arguments, expected, label) in cases {
            // Twice on the same context: the second time the SNI context is the one built the first time.
            for _ in 0..<2 {
                let (outcome, output) = try SClient.handshake(context, arguments)
                #expect(outcome?.info != nil, "\(label): \(output.stderr)")
                #expect(try Self.peerFingerprint(output, material: material) == expected, "\(label)")
                // Postfix's "from host[addr] to sni-name" appears only for a name the tables matched.
                let accepted = outcome?.info?.acceptedServerName
                #expect((accepted != nil) == (expected != standard), "\(label): \(accepted ?? "nil")")
            }
        }
        let (named, _) = try SClient.handshake(context, ["-servername", "Mail.Example.NET"])
        #expect(named?.info?.acceptedServerName == "Mail.Example.NET")
        #expect(named?.info?.summaryLine(peer: "localhost[127.0.0.1]", sni: named?.info?.acceptedServerName)
            .hasPrefix("Anonymous TLS connection established from localhost[127.0.0.1] to Mail.Example.NET: TLSv1.3 with cipher") == true)
        let lines = collector.lines
        #expect(lines.contains("TLS SNI example.net from localhost[127.0.0.1] not matched, using default chain"), "\(lines)")
        #expect(lines.contains("TLS SNI unknown.example.org from localhost[127.0.0.1] not matched, using default chain"))
        #expect(!lines.contains { $0.contains("stranger.example.com") }, "a matched name is not a warning: \(lines)")
        #expect(context.serverNameChainFiles.sorted()
            == [material.fixtures.path("sni-stranger.pem"), material.fixtures.path("sni-wildcard.pem")])
    }

    @Test("a chain file that does not load fails that name's handshake and is logged; other names still work")
    func brokenChain() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let f = material.fixtures
        // The key of one certificate with another certificate.
        try f.concatenate(["rsa.key", "stranger.pem"], into: "sni-mismatch.pem")
        try f.write("sni-broken", "broken.example.com \(f.path("sni-mismatch.pem"))\n", mode: 0o644)
        let collector = LineCollector()
        let context = try serverContext(
            material.rsaServer + "tls_server_sni_maps = texthash:\(f.path("sni-broken"))\n", sink: collector.sink)
        let (outcome, _) = try SClient.handshake(context, ["-servername", "broken.example.com"])
        #expect(outcome?.info == nil)
        #expect(collector.lines.contains { $0.contains("TLS SNI broken.example.com from localhost[127.0.0.1]: cannot load the chain files") },
                "\(collector.lines)")
        let (fallback, output) = try SClient.handshake(context, ["-servername", "other.example.com"])
        #expect(fallback?.info != nil)
        #expect(try Self.peerFingerprint(output, material: material) == material.opensslFingerprint(material.rsaCertificate))
    }

    @Test("Postfix's valid_hostname() decides which SNI names are looked up")
    func hostnameValidity() {
        for name in ["mail.example.com", "a", "x_y.example", "xn--bcher-kva.example", "1.example"] {
            #expect(TLSServerNameSelector.isValidHostname(name), "\(name)")
        }
        for name in ["", "a..b", "example.com.", "-a.example", "a-.example", "1.2.3.4", "a b.example",
                     String(repeating: "a", count: 64) + ".example"] {
            #expect(!TLSServerNameSelector.isValidHostname(name), "\(name)")
        }
    }
}
