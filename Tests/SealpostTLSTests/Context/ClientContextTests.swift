import Foundation
import Testing

@testable import SealpostTLS

/// The SMTP client's context against `openssl s_server`: trust levels and Postfix's client summary line, name,
/// fingerprint and DANE matching, the per-destination session cache, SNI, protocols by level, client certificates.
@Suite("Client context: connections to openssl s_server")
struct ClientContextTests {
    /// `openssl s_server -www` with the RSA certificate, listening on a fresh port.
    final class SServer {
        let port: UInt16
        let process: BackgroundProcess

        init(_ material: ContextTestMaterial, _ extra: [String] = []) throws {
            port = BlockingTLSClient.freePort()
            process = try BackgroundProcess("/usr/bin/openssl", [
                "s_server", "-accept", "127.0.0.1:\(port)", "-cert", material.rsaCertificate, "-key", material.rsaKey,
                "-www",
            ] + extra)
            guard process.waitFor("ACCEPT") else { throw ClientTestError("s_server did not start: \(process.text)") }
        }
    }

    struct ClientTestError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    func clientContext(_ main: String) throws -> TLSContext {
        try TLSClientContextBuilder.makeContext(TLSClientSettings(serviceConfiguration(main)))
    }

    func destination(_ server: SServer, level: TLSClientSecurityLevel? = nil, hostname: String = "mail.example.com",
                     nexthop: String = "example.com") -> TLSClientDestination {
        TLSClientDestination(nexthop: nexthop, hostname: hostname, address: "127.0.0.1", port: Int(server.port), level: level)
    }

    @Test("encrypt without a CA: Untrusted, in the words posttls-finger uses for the same server")
    func untrustedMatchesPosttlsFinger() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material)
        let context = try clientContext("smtp_tls_security_level = encrypt\n")
        let result = try BlockingTLSClient.connect(context: context, port: server.port, destination: destination(server))
        let info = try #require(result.info, "\(result.error ?? "")")
        #expect(info.trust == .untrusted)
        #expect(result.received.contains("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"))
        let line = info.summaryLine(peer: "mail.example.com[127.0.0.1]:\(server.port)")
        #expect(line == "Untrusted TLS connection established to mail.example.com[127.0.0.1]:\(server.port): TLSv1.3 with "
            + "cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) "
            + "server-digest SHA256")

        guard let finger = ExternalTool.require("posttls-finger", package: "postfix") else { return }
        try FileManager.default.createDirectory(atPath: material.directory + "/postfix", withIntermediateDirectories: true)
        try material.fixtures.write("postfix/main.cf", "compatibility_level = 3.7\n")
        let output = try ExternalTool.run(
            finger, ["-w", "-c", "-t", "2", "-L", "routine,certmatch,untrusted", "-l", "encrypt", "[127.0.0.1]:\(server.port)"],
            environment: ["MAIL_CONFIG": material.directory + "/postfix"])
        let postfix = output.all.split(separator: "\n").map(String.init)
        let peer = "127.0.0.1[127.0.0.1]:\(server.port)"
        let reference = try #require(postfix.first { $0.contains("TLS connection established") }, "\(output.all)")
        #expect(reference == "posttls-finger: " + info.summaryLine(peer: peer))
        // The certificate line and the verification failure, in the same words.
        #expect(postfix.contains("posttls-finger: " + (info.peerCertificateLine(peer: peer) ?? "")), "\(output.all)")
        #expect(info.verificationFailureLine(peer: peer) ==
            "certificate verification failed for \(peer): untrusted issuer /CN=Sealpost Test CA/O=Sealpost Tests")
        #expect(postfix.contains("posttls-finger: " + (info.verificationFailureLine(peer: peer) ?? "")), "\(output.all)")
    }

    @Test("a CA file makes the server Trusted; verify with the host name makes it Verified")
    func trustedAndVerified() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material)
        let base = "smtp_tls_CAfile = \(material.caCertificate)\n"
        let trusted = try BlockingTLSClient.connect(
            context: clientContext(base + "smtp_tls_security_level = may\n"), port: server.port, destination: destination(server))
        #expect(trusted.info?.trust == .trusted)
        #expect(trusted.info?.summaryLine(peer: "x").hasPrefix("Trusted TLS connection established to x: ") == true)

        let verify = try clientContext(base + "smtp_tls_security_level = verify\n")
        let verified = try BlockingTLSClient.connect(context: verify, port: server.port, destination: destination(server))
        #expect(verified.info?.trust == .verified, "\(verified.error ?? "")")
        #expect(verified.info?.matched == true)
        #expect(verified.info?.summaryLine(peer: "x").hasPrefix("Verified TLS connection established to x: ") == true)

        let wrongName = try BlockingTLSClient.connect(
            context: verify, port: server.port, destination: destination(server, hostname: "other.example.org"))
        #expect(wrongName.info?.trust == .untrusted)
        #expect(wrongName.info?.verifyResult == 62)
        #expect(wrongName.info?.verifyResultText == "hostname mismatch")
    }

    @Test("secure: nexthop and dot-nexthop; a sub-domain of the next hop matches")
    func secure() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material)
        let context = try clientContext("smtp_tls_CAfile = \(material.caCertificate)\nsmtp_tls_security_level = secure\n")
        let subdomain = try BlockingTLSClient.connect(
            context: context, port: server.port, destination: destination(server, hostname: "mx.elsewhere.net"))
        #expect(subdomain.info?.trust == .verified)
        let unrelated = try BlockingTLSClient.connect(
            context: context, port: server.port, destination: destination(server, nexthop: "example.org"))
        #expect(unrelated.info?.trust == .untrusted)
        let literal = try clientContext(
            "smtp_tls_CAfile = \(material.caCertificate)\nsmtp_tls_security_level = secure\nsmtp_tls_secure_cert_match = mx.example.com\n")
        let matched = try BlockingTLSClient.connect(context: literal, port: server.port, destination: destination(server, nexthop: "x.org"))
        #expect(matched.info?.trust == .verified)
    }

    @Test("fingerprint: the certificate's or its public key's digest, colons optional; no CA needed")
    func fingerprint() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material)
        let certificate = try material.opensslFingerprint(material.rsaCertificate)
        let publicKey = TLSFingerprints.publicKey(
            try Certificate.loadPEMFile(material.rsaCertificate)[0], digest: try TLSFingerprintDigest("sha256", parameter: ""))
        for value in [certificate, certificate.replacingOccurrences(of: ":", with: "").lowercased(), publicKey] {
            let context = try clientContext("smtp_tls_security_level = fingerprint\nsmtp_tls_fingerprint_cert_match = \(value)\n")
            let result = try BlockingTLSClient.connect(context: context, port: server.port, destination: destination(server))
            #expect(result.info?.trust == .verified, "\(value)")
        }
        let wrong = try clientContext("smtp_tls_security_level = fingerprint\nsmtp_tls_fingerprint_cert_match = "
            + String(repeating: "AB:", count: 31) + "AB\n")
        let refused = try BlockingTLSClient.connect(context: wrong, port: server.port, destination: destination(server))
        #expect(refused.info?.trust == .untrusted)
        #expect(TLSFingerprints.matches(
            try Certificate.loadPEMFile(material.rsaCertificate)[0], fingerprints: [certificate],
            digest: try TLSFingerprintDigest("sha256", parameter: "")))
        let error = #expect(throws: TLSConfigurationError.self) {
            try TLSClientSettings(serviceConfiguration("smtp_tls_fingerprint_cert_match = zz:top\n"))
        }
        #expect(error?.reason == "smtp_tls_fingerprint_cert_match: malformed fingerprint value: zz:top")
    }

    @Test("DANE: a 3 1 1 record for the server's key authenticates it; a wrong one does not")
    func dane() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material)
        let context = try clientContext("smtp_tls_security_level = may\n")
        let spki = try Certificate.loadPEMFile(material.rsaCertificate)[0].details.subjectPublicKeyInfoSHA256
        let record = try #require(TLSARecord("3 1 1 \(spki)"))
        #expect(record.description == "3 1 1 \(spki)")
        var target = destination(server, level: .dane)
        target.tlsaRecords = [record]
        target.daneBaseDomain = "mail.example.com"
        let good = try BlockingTLSClient.connect(context: context, port: server.port, destination: target)
        #expect(good.info?.trust == .verified, "\(good.error ?? "")")
        target.tlsaRecords = [TLSARecord(usage: 3, selector: 1, matchingType: 1, data: [UInt8](repeating: 7, count: 32))]
        let bad = try BlockingTLSClient.connect(context: context, port: server.port, destination: target)
        #expect(bad.info?.trust == .untrusted)
        #expect(bad.info?.verifyResultText?.lowercased().contains("no matching dane tlsa records") == true, "\(bad.info?.verifyResultText ?? "")")
    }

    @Test("the session cache: a second connection to the destination resumes; timeout 0 keeps nothing",
          arguments: [[String](), ["-tls1_2"]])
    func sessionCache(serverArguments: [String]) throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material, serverArguments)
        let context = try clientContext("smtp_tls_security_level = may\n")
        let first = try BlockingTLSClient.connect(context: context, port: server.port, destination: destination(server))
        #expect(first.info?.isResumed == false)
        #expect(context.clientSessionCache?.count == 1)
        #expect(context.clientSessionCache?.timeout == 3600)
        let second = try BlockingTLSClient.connect(context: context, port: server.port, destination: destination(server))
        #expect(second.info?.isResumed == true, "\(second.received)")
        // Another destination key (another next hop) does not get the session.
        let other = try BlockingTLSClient.connect(
            context: context, port: server.port, destination: destination(server, nexthop: "example.org"))
        #expect(other.info?.isResumed == false)

        let off = try clientContext("smtp_tls_security_level = may\nsmtp_tls_session_cache_timeout = 0\n")
        #expect(off.clientSessionCache == nil)
        _ = try BlockingTLSClient.connect(context: off, port: server.port, destination: destination(server))
        let again = try BlockingTLSClient.connect(context: off, port: server.port, destination: destination(server))
        #expect(again.info?.isResumed == false)
    }

    @Test("the cache honours its timeout")
    func cacheTimeout() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material)
        let context = try clientContext("smtp_tls_security_level = may\nsmtp_tls_session_cache_timeout = 10s\n")
        #expect(context.clientSessionCache?.timeout == 120)
        _ = try BlockingTLSClient.connect(context: context, port: server.port, destination: destination(server))
        let key = try #require(context.sessionCacheKey(for: destination(server)))
        #expect(context.clientSessionCache?.contains(key) == true)
        let cache = TLSClientSessionCache(timeout: 120, now: { 2_000_000_000 })
        #expect(!cache.contains(key))
        context.clientSessionCache?.remove(key)
        #expect(context.clientSessionCache?.contains(key) == false)
    }

    @Test("SNI: none by default; hostname, nexthop or a literal with smtp_tls_servername")
    func serverName() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        for (value, expected) in [("", nil), ("hostname", "mail.example.com"), ("nexthop", "example.com"), ("relay.example.net", "relay.example.net")] as [(String, String?)] {
            let server = try BlockingTLSServer(context: serverContext(material.rsaServer), mode: .implicit)
            let context = try clientContext("smtp_tls_security_level = may\nsmtp_tls_servername = \(value)\n")
            _ = try BlockingTLSClient.connect(
                context: context, port: server.port,
                destination: TLSClientDestination(nexthop: "example.com", hostname: "mail.example.com", address: "127.0.0.1", port: Int(server.port)),
                request: "QUIT\r\n")
            guard case .established(_, let sent)? = server.finish().first else {
                Issue.record("no handshake for \(value)")
                continue
            }
            #expect(sent == expected, "smtp_tls_servername = \(value)")
        }
        let error = #expect(throws: TLSConfigurationError.self) {
            try TLSClientSettings(serviceConfiguration("smtp_tls_servername = -bad-.example\n"))
        }
        #expect(error?.reason == "\"smtp_tls_servername = -bad-.example\" specifies an invalid hostname")
    }

    @Test("protocols by level: smtp_tls_protocols at may, smtp_tls_mandatory_protocols above")
    func protocolsByLevel() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material, ["-tls1_2"])
        let context = try clientContext("""
            smtp_tls_security_level = may
            smtp_tls_protocols = >=TLSv1.2
            smtp_tls_mandatory_protocols = >=TLSv1.3

            """)
        let may = try BlockingTLSClient.connect(context: context, port: server.port, destination: destination(server))
        #expect(may.info?.protocolVersion == "TLSv1.2")
        let encrypt = try BlockingTLSClient.connect(context: context, port: server.port, destination: destination(server, level: .encrypt))
        #expect(encrypt.info == nil)
        let settings = try TLSClientSettings(serviceConfiguration("smtp_tls_mandatory_exclude_ciphers = AES128-SHA\n"))
        #expect(try settings.cipherPolicy(for: .may).cipherString == "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH")
        #expect(try settings.cipherPolicy(for: .encrypt).cipherString.hasSuffix(":!AES128-SHA:!eNULL"))
        #expect(try settings.cipherPolicy(for: .verify).cipherString.hasSuffix(":!AES128-SHA:!aNULL"))
    }

    @Test("the client certificate is sent when the server asks; the summary names the client signature")
    func clientCertificate() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let server = try SServer(material, ["-verify", "1", "-CAfile", material.caCertificate])
        let context = try clientContext("""
            smtp_tls_security_level = may
            smtp_tls_cert_file = \(material.clientCertificate)
            smtp_tls_key_file = \(material.clientKey)

            """)
        let result = try BlockingTLSClient.connect(context: context, port: server.port, destination: destination(server))
        let info = try #require(result.info, "\(result.error ?? "")")
        #expect(info.clientSignature == TLSHandshakeSignature(algorithm: "ECDSA", curve: "prime256v1", bits: nil, digest: "SHA256"))
        #expect(info.summaryLine(peer: "p").hasSuffix("client-signature ECDSA (prime256v1) client-digest SHA256"))
        #expect(result.received.contains("Client certificate"), "\(result.received)")
    }

    @Test("the legacy switches give the default level as Postfix computes it")
    func legacyLevels() throws {
        guard try ContextTestMaterial.shared() != nil else { return }
        #expect(try TLSClientSettings(serviceConfiguration("")).defaultLevel == .none)
        #expect(try TLSClientSettings(serviceConfiguration("smtp_use_tls = yes\n")).defaultLevel == .may)
        #expect(try TLSClientSettings(serviceConfiguration("smtp_enforce_tls = yes\n")).defaultLevel == .verify)
        #expect(try TLSClientSettings(serviceConfiguration("smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no\n")).defaultLevel == .encrypt)
        #expect(try TLSClientSettings(serviceConfiguration("smtp_enforce_tls = yes\nsmtp_tls_security_level = may\n")).defaultLevel == .may)
        let lmtp = try TLSClientSettings(serviceConfiguration("lmtp_tls_security_level = encrypt\n"), prefix: "lmtp")
        #expect(lmtp.defaultLevel == .encrypt)
        #expect(lmtp.secureCertMatch == ["nexthop"])
    }
}
