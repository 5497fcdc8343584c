import Foundation
import Testing

@testable import SealpostTLS

/// Client certificates: asked for, required, verified against the CA file; what the session info, the summary
/// line and the Received header say about them.
@Suite("Server context: client certificates")
struct ClientCertificateTests {
    func askingServer(_ material: ContextTestMaterial, _ extra: String = "") throws -> TLSContext {
        try serverContext(material.rsaServer + """
            smtpd_tls_ask_ccert = yes
            smtpd_tls_CAfile = \(material.caCertificate)
            \(extra)
            """)
    }

    @Test("asked and sent: Trusted, with subject CN, issuer CN and fingerprints; Postfix's words")
    func trustedClient() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try askingServer(material)
        let (outcome, output) = try SClient.handshake(
            context, ["-cert", material.clientCertificate, "-key", material.clientKey])
        let info = try #require(outcome?.info, "\(output.all)")
        #expect(info.trust == .trusted)
        #expect(info.peerCommonName == "client.example.com")
        #expect(info.issuerCommonName == "Sealpost Test CA")
        #expect(info.verifyResult == 0)
        #expect(info.peerFingerprint == (try material.opensslFingerprint(material.clientCertificate)))
        #expect(info.peerCertificates.first?.details.subjectCommonName == "client.example.com")
        // The public-key fingerprint as postconf(5) shows how to compute it.
        let spki = try material.fixtures.openssl("x509", "-in", material.clientCertificate, "-noout", "-pubkey")
        let spkiFile = try material.fixtures.write("client.spki.pem", spki)
        let der = try material.fixtures.openssl("pkey", "-pubin", "-in", spkiFile, "-outform", "DER", "-out", "client.spki.der")
        _ = der
        let digest = try material.fixtures.openssl("dgst", "-sha256", "-c", "client.spki.der")
        let expected = digest.split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        #expect(info.peerPublicKeyFingerprint == expected)

        #expect(info.summaryLine(peer: "localhost[127.0.0.1]") ==
            "Trusted TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
            + "(256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256 "
            + "client-signature ECDSA (prime256v1) client-digest SHA256")
        #expect(info.receivedHeaderLines == [
            "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
            "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
            "\t client-signature ECDSA (prime256v1) client-digest SHA256)",
            "\t(Client CN \"client.example.com\", Issuer \"Sealpost Test CA\" (verified OK))",
        ])
        // The CA list sent with the request names the CA file's certificates.
        #expect(output.stdout.contains("Acceptable client certificate CA names"))
        #expect(output.stdout.contains("CN = Sealpost Test CA"), "\(output.stdout)")
    }

    @Test("asked, not sent: Anonymous, and the Received header says the client did not present one")
    func askedNotSent() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let (outcome, output) = try SClient.handshake(try askingServer(material), [])
        let info = try #require(outcome?.info, "\(output.all)")
        #expect(info.trust == .anonymous)
        #expect(info.peerCommonName == nil)
        #expect(info.receivedHeaderLines.last == "\t(Client did not present a certificate)")
    }

    @Test("a certificate from an unknown CA: the handshake works, the certificate is Untrusted")
    func untrusted() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let (outcome, output) = try SClient.handshake(
            try askingServer(material), ["-cert", material.strangerCertificate, "-key", material.strangerKey])
        let info = try #require(outcome?.info, "\(output.all)")
        #expect(info.trust == .untrusted)
        #expect(info.peerCommonName == "stranger.example.com")
        #expect(info.issuerCommonName == "stranger.example.com")
        #expect(info.verifyResultText == "self-signed certificate")
        #expect(info.verificationFailureLine(peer: "localhost[127.0.0.1]") ==
            "certificate verification failed for localhost[127.0.0.1]: self-signed certificate")
        #expect(info.peerCertificateLine(peer: "localhost[127.0.0.1]")?.hasPrefix(
            "localhost[127.0.0.1]: subject_CN=stranger.example.com, issuer=stranger.example.com, fingerprint=") == true)
        #expect(info.summaryLine(peer: "h[a]").hasPrefix("Untrusted TLS connection established from h[a]: TLSv1.3"))
        #expect(info.receivedHeaderLines.last ==
            "\t(Client CN \"stranger.example.com\", Issuer \"stranger.example.com\" (not verified))")
    }

    @Test("required at encrypt: no certificate, no handshake; a trusted one passes; TLS 1.2 too")
    func required() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let settings = try serverSettings(material.rsaServer + """
            smtpd_tls_security_level = encrypt
            smtpd_tls_req_ccert = yes
            smtpd_tls_CAfile = \(material.caCertificate)

            """)
        #expect(settings.asksForClientCertificate && settings.requiresClientCertificate)
        let context = try TLSServerContextBuilder.makeContext(settings)
        let (refused, refusedOutput) = try SClient.handshake(context, [])
        #expect(refused?.info == nil)
        if case .failed(let reason)? = refused {
            #expect(reason.contains("peer did not return a certificate"), "\(reason)")
        }
        #expect(refusedOutput.all.contains("alert certificate required") || refusedOutput.all.contains("alert"),
                "\(refusedOutput.all)")
        let (tls12, _) = try SClient.handshake(context, ["-tls1_2"])
        #expect(tls12?.info == nil)
        let (accepted, output) = try SClient.handshake(
            context, ["-cert", material.clientCertificate, "-key", material.clientKey])
        #expect(accepted?.info?.trust == .trusted, "\(output.all)")

        // The Postfix way: finish the handshake and let the SMTP server answer 421.
        var postfixStyle = settings
        postfixStyle.failsHandshakeWithoutClientCertificate = false
        let (completed, _) = try SClient.handshake(TLSServerContextBuilder.makeContext(postfixStyle), [])
        #expect(completed?.info?.trust == .anonymous)
    }

    @Test("req_ccert without encrypt only asks, with Postfix's warning")
    func requiredWithoutEncrypt() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let settings = try serverSettings(material.rsaServer + "smtpd_tls_req_ccert = yes\nsmtpd_tls_CAfile = \(material.caCertificate)\n")
        #expect(!settings.asksForClientCertificate && !settings.requiresClientCertificate)
        #expect(settings.warnings.contains { $0.message == "Can't require client certs unless TLS is required" })
    }

    @Test("asking for certificates turns anonymous suites off")
    func noAnonymousWhenAsking() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        #expect(try askingServer(material).state.asksForClientCertificate)
        let settings = try serverSettings(material.rsaServer + "smtpd_tls_ask_ccert = yes\n")
        #expect(settings.ciphers.cipherString.hasSuffix(":!aNULL"))
        // Mixed list: an anonymous suite first, then an authenticated one; without asking the anonymous wins.
        let offer = ["-tls1_2", "-cipher", "ADH-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384@SECLEVEL=0"]
        let (plain, _) = try SClient.handshake(serverContext(material.rsaServer + "tls_preempt_cipherlist = no\n"), offer)
        #expect(plain?.info?.cipher == "ADH-AES256-GCM-SHA384")
        let (asking, _) = try SClient.handshake(TLSServerContextBuilder.makeContext(settings), offer)
        #expect(asking?.info?.cipher == "ECDHE-RSA-AES256-GCM-SHA384")
    }

    @Test("the verify depth is the parameter plus one, as in Postfix")
    func verifyDepth() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try askingServer(material, "smtpd_tls_ccert_verifydepth = 0\n")
        // Depth 0 + 1 allows the leaf and its issuer, so a leaf issued directly by the CA still verifies.
        let (outcome, _) = try SClient.handshake(context, ["-cert", material.clientCertificate, "-key", material.clientKey])
        #expect(outcome?.info?.trust == .trusted)
    }

    @Test("client certificates without a server certificate cannot be asked for")
    func anonymousCannotAsk() throws {
        guard try ContextTestMaterial.shared() != nil else { return }
        let error = #expect(throws: TLSConfigurationError.self) {
            try serverSettings("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = none\nsmtpd_tls_ask_ccert = yes\n")
        }
        #expect(error?.code == .anonymousWithClientCertificates)
    }
}
