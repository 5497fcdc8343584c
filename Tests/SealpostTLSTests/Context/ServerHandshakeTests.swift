import Foundation
import Testing

@testable import SealpostTLS

/// Server contexts against `openssl s_client`: certificates, STARTTLS and wrapper mode, Postfix's summary line and
/// Received header text.
@Suite("Server context: handshakes with openssl s_client")
struct ServerHandshakeTests {
    @Test("RSA over STARTTLS: TLSv1.3 with X25519, and Postfix's summary and Received text word for word")
    func rsaStartTLS() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer)
        let (outcome, output) = try SClient.handshake(context)
        let info = try #require(outcome?.info, "\(output.all)")
        #expect(info.protocolVersion == "TLSv1.3")
        #expect(info.cipher == "TLS_AES_256_GCM_SHA384")
        #expect(info.trust == .anonymous)
        #expect(!info.isResumed)
        #expect(info.summaryLine(peer: "localhost[127.0.0.1]") ==
            "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
            + "(256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256")
        #expect(info.receivedHeaderLines == [
            "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
            "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)",
            "\t(No client certificate requested)",
        ])
        #expect(output.stdout.contains("250 2.0.0 TLS ok"))
    }

    @Test("wrapper mode: TLS from the first byte")
    func implicitTLS() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + "smtpd_tls_wrappermode = yes\n")
        let (outcome, output) = try SClient.handshake(context, mode: .implicit)
        let info = try #require(outcome?.info, "\(output.all)")
        #expect(info.protocolVersion == "TLSv1.3")
        #expect(output.stdout.contains("250 2.0.0 TLS ok"))
    }

    @Test("ECDSA certificate: server-signature ECDSA (prime256v1)")
    func ecdsa() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext("""
            smtpd_tls_security_level = may
            smtpd_tls_eccert_file = \(material.ecCertificate)
            smtpd_tls_eckey_file = \(material.ecKey)

            """)
        let (outcome, output) = try SClient.handshake(context)
        let info = try #require(outcome?.info, "\(output.all)")
        #expect(info.summaryLine(peer: "localhost[127.0.0.1]") ==
            "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
            + "(256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256")
    }

    @Test("RSA and ECDSA together: each client gets the certificate its signature algorithms allow")
    func rsaAndECDSA() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + """
            smtpd_tls_eccert_file = \(material.ecCertificate)
            smtpd_tls_eckey_file = \(material.ecKey)

            """)
        let (ecOutcome, ecOutput) = try SClient.handshake(context, ["-sigalgs", "ECDSA+SHA256"])
        #expect(ecOutcome?.info?.serverSignature?.algorithm == "ECDSA", "\(ecOutput.all)")
        #expect(ecOutput.stdout.contains("Peer signature type: ECDSA"))
        let (rsaOutcome, rsaOutput) = try SClient.handshake(context, ["-sigalgs", "RSA-PSS+SHA256"])
        #expect(rsaOutcome?.info?.serverSignature == TLSHandshakeSignature(algorithm: "RSA-PSS", curve: nil, bits: 2048, digest: "SHA256"),
                "\(rsaOutput.all)")
        // TLS 1.2 with an RSA-only suite list gets the RSA certificate too.
        let (tls12Outcome, _) = try SClient.handshake(context, ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"])
        #expect(tls12Outcome?.info?.cipher == "ECDHE-RSA-AES256-GCM-SHA384")
        let (ecdhe12, _) = try SClient.handshake(context, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"])
        #expect(ecdhe12?.info?.cipher == "ECDHE-ECDSA-AES256-GCM-SHA384")
    }

    @Test("TLS 1.2: the summary ends after the cipher bits, as Postfix's does before TLS 1.3")
    func tls12Summary() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer)
        let (outcome, output) = try SClient.handshake(context, ["-tls1_2"])
        let info = try #require(outcome?.info, "\(output.all)")
        #expect(info.summaryLine(peer: "localhost[127.0.0.1]") ==
            "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.2 with cipher "
            + "ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)")
        #expect(info.receivedHeaderLines == [
            "\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))",
            "\t(No client certificate requested)",
        ])
        // The key exchange is still recorded, for those who want it.
        #expect(info.keyExchange == TLSKeyExchangeInfo(name: "X25519", curve: nil, bits: nil))
    }

    @Test("no certificate (none): anonymous suites only, at TLS 1.2, for clients that offer them")
    func anonymousOnly() throws {
        guard try ContextTestMaterial.shared() != nil else { return }
        let context = try serverContext("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = none\n")
        let (anonymous, output) = try SClient.handshake(context, ["-cipher", "aNULL@SECLEVEL=0"])
        let info = try #require(anonymous?.info, "\(output.all)")
        // OpenSSL never negotiates TLS 1.3 without a certificate; the strongest anonymous suite wins.
        #expect(info.protocolVersion == "TLSv1.2")
        #expect(info.cipher == "ADH-AES256-GCM-SHA384")
        #expect(info.serverSignature == nil)
        #expect(info.summaryLine(peer: "localhost[127.0.0.1]") ==
            "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.2 with cipher ADH-AES256-GCM-SHA384 (256/256 bits)")

        let (dheOutcome, dheOutput) = try SClient.handshake(context, ["-tls1_2", "-cipher", "ADH-AES256-GCM-SHA384@SECLEVEL=0"])
        #expect(dheOutcome?.info?.cipher == "ADH-AES256-GCM-SHA384", "\(dheOutput.all)")
        // OpenSSL's automatic DH group (Postfix 3.7's default with OpenSSL 3): for an anonymous suite with a
        // 256-bit cipher it assumes 128-bit security and picks the 3072-bit group; 128-bit ciphers get 1024 bits.
        #expect(SClient.serverTempKey(dheOutput) == "DH, 3072 bits")
        let (weakOutcome, weakOutput) = try SClient.handshake(context, ["-tls1_2", "-cipher", "ADH-AES128-GCM-SHA256@SECLEVEL=0"])
        #expect(weakOutcome?.info?.cipher == "ADH-AES128-GCM-SHA256", "\(weakOutput.all)")
        #expect(SClient.serverTempKey(weakOutput) == "DH, 1024 bits")

        // A client that offers no anonymous suite (every usual client) cannot connect.
        let (refused, refusedOutput) = try SClient.handshake(context)
        #expect(refused?.info == nil, "\(refusedOutput.all)")
    }
}
