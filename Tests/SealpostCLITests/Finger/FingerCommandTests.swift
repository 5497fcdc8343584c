import Foundation
import SealpostTestSupport
import Testing

/// `sealpost finger` against a running Sealpost (self-signed certificate for mx.example.test, with
/// localhost and 127.0.0.1 as alternative names): the SMTP chat, STARTTLS and wrapper mode, the certificate's
/// fingerprints as openssl computes them, verification with -F, a name that fails the match, session reuse.
@Suite("sealpost finger against Sealpost", .serialized)
struct FingerCommandTests {
    /// One shared server per test: starting it is what takes time.
    private static func withInstance(_ body: (MailInstance) throws -> Void) throws {
        let instance = try MailInstance()
        try instance.start()
        defer { instance.stop() }
        try body(instance)
    }

    /// The openssl fingerprints of the instance's certificate and of its public key, as `AB:CD:…`.
    private static func fingerprints(_ instance: MailInstance) throws -> (certificate: String, publicKey: String) {
        let certificate = try instance.fixtures.openssl("x509", "-in", instance.fixtures.path("cert.pem"), "-noout", "-fingerprint", "-sha256")
        let publicKeyPEM = try instance.fixtures.openssl("x509", "-in", instance.fixtures.path("cert.pem"), "-noout", "-pubkey")
        try instance.fixtures.write("pubkey.pem", publicKeyPEM)
        _ = try instance.fixtures.openssl("pkey", "-pubin", "-in", instance.fixtures.path("pubkey.pem"), "-outform", "DER", "-out", instance.fixtures.path("pubkey.der"))
        let digest = try instance.fixtures.openssl("dgst", "-sha256", "-c", instance.fixtures.path("pubkey.der"))
        let certificateValue = certificate.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let keyValue = digest.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).uppercased() } ?? ""
        return (certificateValue, keyValue)
    }

    private static func finger(_ arguments: [String]) throws -> SealpostBinary.Result {
        try SealpostBinary.run(["finger"] + arguments, environment: ["SEALPOST_CONFIG_DIR": "/nonexistent"])
    }

    @Test("STARTTLS: the chat, the certificate's fingerprints and the summary line")
    func startTLSChat() throws {
        try Self.withInstance { instance in
            let result = try Self.finger(["-l", "may", "[127.0.0.1]:\(instance.smtpPort)"])
            let out = result.standardOutput
            #expect(result.status == 0, "\(out)\(result.standardError)")
            let peer = "127.0.0.1[127.0.0.1]:\(instance.smtpPort)"
            #expect(out.hasPrefix("posttls-finger: Connected to \(peer)\n"), "\(out)")
            #expect(out.contains("posttls-finger: < 220 mx.example.test ESMTP"), "\(out)")
            #expect(out.contains("posttls-finger: > EHLO "), "\(out)")
            #expect(out.contains("posttls-finger: < 250-STARTTLS"), "\(out)")
            #expect(out.contains("posttls-finger: > STARTTLS\n"), "\(out)")
            #expect(out.contains("posttls-finger: < 220 2.0.0 Ready to start TLS"), "\(out)")
            let (certificate, publicKey) = try Self.fingerprints(instance)
            #expect(
                out.contains("posttls-finger: \(peer): subject_CN=mx.example.test, issuer_CN=mx.example.test, "
                    + "fingerprint=\(certificate), pkey_fingerprint=\(publicKey)\n"), "\(out)")
            #expect(out.contains("posttls-finger: Untrusted TLS connection established to \(peer): TLSv1.3 with cipher TLS_"), "\(out)")
            // The second EHLO comes after the handshake, and no longer offers STARTTLS.
            let afterTLS = out.components(separatedBy: "TLS connection established").last ?? ""
            #expect(afterTLS.contains("posttls-finger: > EHLO "), "\(out)")
            #expect(!afterTLS.contains("STARTTLS"), "\(out)")
            #expect(out.hasSuffix("posttls-finger: > QUIT\nposttls-finger: < 221 2.0.0 Bye\n"), "\(out)")
        }
    }

    @Test("-w speaks TLS from the first byte to the smtps port; -c leaves the chat out")
    func wrapperMode() throws {
        try Self.withInstance { instance in
            let peer = "127.0.0.1[127.0.0.1]:\(instance.smtpsPort)"
            let result = try Self.finger(["-w", "-c", "-l", "encrypt", "[127.0.0.1]:\(instance.smtpsPort)"])
            let out = result.standardOutput
            #expect(result.status == 0, "\(out)\(result.standardError)")
            #expect(!out.contains("Connected to") && !out.contains("< 220") && !out.contains("> EHLO"), "\(out)")
            #expect(out.contains("posttls-finger: Untrusted TLS connection established to \(peer): TLSv1.3 with cipher"), "\(out)")
            // STARTTLS to the wrapper port is not SMTP at all: it ends without a greeting.
            let plain = try Self.finger(["-l", "may", "-t", "5", "-T", "5", "[127.0.0.1]:\(instance.smtpsPort)"])
            #expect(plain.status != 0)
            #expect(!plain.standardOutput.contains("TLS connection established"), "\(plain.standardOutput)")
        }
    }

    @Test("-l secure -F cert.pem verifies the name; a wrong name fails the match")
    func secureLevel() throws {
        try Self.withInstance { instance in
            let peer = "127.0.0.1[127.0.0.1]:\(instance.smtpPort)"
            let cafile = instance.fixtures.path("cert.pem")
            let verified = try Self.finger(["-c", "-l", "secure", "-F", cafile, "[127.0.0.1]:\(instance.smtpPort)", "mx.example.test"])
            #expect(verified.standardOutput.contains("posttls-finger: Verified TLS connection established to \(peer)"), "\(verified.standardOutput)")
            #expect(!verified.standardOutput.contains("verification failed"), "\(verified.standardOutput)")

            let wrong = try Self.finger(["-c", "-l", "secure", "-F", cafile, "[127.0.0.1]:\(instance.smtpPort)", "other.example.test"])
            #expect(wrong.standardOutput.contains("posttls-finger: server certificate verification failed for \(peer): num=62:hostname mismatch"), "\(wrong.standardOutput)")
            #expect(wrong.standardOutput.contains("posttls-finger: Untrusted TLS connection established to \(peer)"), "\(wrong.standardOutput)")

            // Without a CAfile the self-signed certificate is not trusted, whatever its names.
            let untrusted = try Self.finger(["-c", "-l", "secure", "[127.0.0.1]:\(instance.smtpPort)", "mx.example.test"])
            #expect(
                untrusted.standardOutput.contains("posttls-finger: certificate verification failed for \(peer): self-signed certificate\n"),
                "\(untrusted.standardOutput)")
            #expect(untrusted.standardOutput.contains("posttls-finger: Untrusted TLS connection established to \(peer)"), "\(untrusted.standardOutput)")
        }
    }

    @Test("-l fingerprint matches the certificate's SHA-256 fingerprint; -C prints the chain")
    func fingerprintLevelAndChain() throws {
        try Self.withInstance { instance in
            let peer = "127.0.0.1[127.0.0.1]:\(instance.smtpPort)"
            let (certificate, publicKey) = try Self.fingerprints(instance)
            let matched = try Self.finger(["-c", "-C", "-l", "fingerprint", "[127.0.0.1]:\(instance.smtpPort)", certificate])
            let out = matched.standardOutput
            #expect(out.contains("posttls-finger: Verified TLS connection established to \(peer)"), "\(out)")
            #expect(out.contains(" 0 subject: CN=mx.example.test\n    issuer: CN=mx.example.test\n"), "\(out)")
            #expect(out.contains("   cert. sha256 fingerprint: \(certificate)\n   pkey sha256 fingerprint: \(publicKey)\n"), "\(out)")
            let pem = try instance.fixtures.read("cert.pem")
            #expect(out.contains(pem.trimmingCharacters(in: .whitespacesAndNewlines)), "\(out)")

            let other = try Self.finger(["-c", "-l", "fingerprint", "[127.0.0.1]:\(instance.smtpPort)", String(repeating: "00:", count: 31) + "00"])
            #expect(other.standardOutput.contains("posttls-finger: Untrusted TLS connection established to \(peer)"), "\(other.standardOutput)")
        }
    }

    @Test("-r 1 reconnects and reports the TLS session reused")
    func reconnect() throws {
        try Self.withInstance { instance in
            let peer = "127.0.0.1[127.0.0.1]:\(instance.smtpPort)"
            let result = try Self.finger(["-c", "-r", "1", "-l", "may", "[127.0.0.1]:\(instance.smtpPort)"])
            let out = result.standardOutput
            #expect(result.status == 0, "\(out)\(result.standardError)")
            let parts = out.components(separatedBy: "posttls-finger: Reconnecting after 1 seconds\n")
            #expect(parts.count == 2, "\(out)")
            #expect(parts.first?.contains("Reusing old session") == false, "\(out)")
            #expect(parts.first?.contains("TLS connection established to \(peer)") == true, "\(out)")
            #expect(parts.last?.contains("posttls-finger: \(peer): Reusing old session\n") == true, "\(out)")
            #expect(parts.last?.contains("TLS connection established to \(peer)") == true, "\(out)")
            // After a reconnection posttls-finger no longer shows the certificate line.
            #expect(parts.last?.contains("subject_CN=") == false, "\(out)")
        }
    }

    @Test("-L ssl-debug shows OpenSSL's handshake states; -L none leaves out the TLS lines")
    func logOptions() throws {
        try Self.withInstance { instance in
            let debug = try Self.finger(["-c", "-l", "may", "-L", "routine,ssl-debug", "[127.0.0.1]:\(instance.smtpPort)"])
            #expect(debug.standardOutput.contains("posttls-finger: SSL_connect:before SSL initialization\n"), "\(debug.standardOutput)")
            #expect(debug.standardOutput.contains("TLS connection established"), "\(debug.standardOutput)")
            let quiet = try Self.finger(["-c", "-l", "may", "-L", "none", "[127.0.0.1]:\(instance.smtpPort)"])
            #expect(quiet.status == 0)
            #expect(!quiet.standardOutput.contains("TLS connection established"), "\(quiet.standardOutput)")
            #expect(!quiet.standardOutput.contains("SSL_connect"), "\(quiet.standardOutput)")
        }
    }

    @Test("bad arguments and unreachable servers give clear errors")
    func errors() throws {
        let level = try Self.finger(["-l", "paranoid", "[127.0.0.1]:25"])
        #expect(level.status != 0)
        #expect(level.standardError.contains("invalid TLS security level"), "\(level.standardError)")
        let destination = try Self.finger(["[127.0.0.1"])
        #expect(destination.status != 0)
        #expect(destination.standardError.contains("malformed destination"), "\(destination.standardError)")
        let port = try MailInstance.freePort()
        let refused = try Self.finger(["[127.0.0.1]:\(port)"])
        #expect(refused.status != 0)
        #expect(refused.standardOutput.contains("posttls-finger: connect to 127.0.0.1[127.0.0.1]:\(port): Connection refused"), "\(refused.standardOutput)")
    }
}
