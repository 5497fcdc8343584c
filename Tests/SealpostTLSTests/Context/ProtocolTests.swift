import Foundation
import Testing

@testable import SealpostTLS

/// Protocol lists as Postfix 3.7 applies them: exclusions as `SSL_OP_NO_*`, `>=` / `<=` as version bounds, bare
/// names as an include list; the OpenSSL security level 0 Postfix sets keeps TLS 1.0 and 1.1 possible.
@Suite("Server context: protocol versions")
struct ProtocolTests {
    /// A client at security level 0 (OpenSSL 3's default level 1 refuses TLS 1.0 and 1.1 itself).
    static let legacyClient = ["-cipher", "DEFAULT@SECLEVEL=0"]

    func version(_ context: TLSContext, _ arguments: [String]) throws -> String? {
        let (outcome, _) = try SClient.handshake(context, arguments)
        return outcome?.info?.protocolVersion
    }

    @Test("the default >=TLSv1 allows TLS 1.0 to 1.3; a TLS 1.0 client must itself allow SHA-1 (security level 0)")
    func defaultRange() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer)
        #expect(try version(context, []) == "TLSv1.3")
        #expect(try version(context, ["-tls1_2"]) == "TLSv1.2")
        #expect(try version(context, ["-tls1_1"] + Self.legacyClient) == "TLSv1.1")
        #expect(try version(context, ["-tls1"] + Self.legacyClient) == "TLSv1")
        // The same TLS 1.0 client at OpenSSL 3's default security level offers nothing the handshake can use.
        let (outcome, output) = try SClient.handshake(context, ["-tls1"])
        #expect(outcome?.info == nil)
        #expect(output.stdout.contains("Cipher is (NONE)"), "\(output.all)")
    }

    @Test(">=TLSv1.2 refuses TLS 1.1; <=TLSv1.2 refuses TLS 1.3; !TLSv1.2 refuses TLS 1.2")
    func boundsAndExclusions() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let floor = try serverContext(material.rsaServer + "smtpd_tls_protocols = >=TLSv1.2\n")
        #expect(try version(floor, ["-tls1_1"] + Self.legacyClient) == nil)
        #expect(try version(floor, ["-tls1_2"]) == "TLSv1.2")
        let ceiling = try serverContext(material.rsaServer + "smtpd_tls_protocols = <=TLSv1.2\n")
        #expect(try version(ceiling, ["-tls1_3"]) == nil)
        #expect(try version(ceiling, []) == "TLSv1.2")
        let hex = try serverContext(material.rsaServer + "smtpd_tls_protocols = >=0x0303, <=0303\n")
        #expect(try version(hex, []) == "TLSv1.2")
        #expect(try version(hex, ["-tls1_3"]) == nil)
        let excluded = try serverContext(material.rsaServer + "smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1.2\n")
        #expect(try version(excluded, ["-tls1_2"]) == nil)
        #expect(try version(excluded, []) == "TLSv1.3")
        #expect(try version(excluded, ["-tls1_1"] + Self.legacyClient) == "TLSv1.1")
    }

    /// The seed's obsolete `smtpd_tls_mandatory_protocols = TLSv1`: a bare name is an include list, so Postfix
    /// excludes every other version (`tls_proto_mask_lims()` returns the complement as the mask, with no bounds).
    /// It applies at `encrypt` — the seed's submission service — and in wrapper mode (the seed's smtps), where it
    /// leaves TLS 1.0 only: clients that refuse TLS 1.0 (OpenSSL 3 at its default security level, current MUAs)
    /// cannot connect at all.
    @Test("the seed's bare TLSv1 at encrypt and in wrapper mode: TLS 1.0 only")
    func seedMandatoryTLSv1() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let settings = try serverSettings(
            material.rsaServer, master: """
                submission inet n - n - - smtpd
                  -o smtpd_tls_security_level=encrypt
                  -o smtpd_tls_mandatory_protocols=TLSv1
                """, service: "submission/inet")
        #expect(settings.enforcesTLS)
        #expect(settings.protocols.parameter == "smtpd_tls_mandatory_protocols")
        #expect(settings.protocols.allowedVersions == [.tlsv1])
        #expect(settings.protocols.selection.text == "TLSv1")
        let context = try TLSServerContextBuilder.makeContext(settings)
        #expect(try version(context, ["-tls1"] + Self.legacyClient) == "TLSv1")
        #expect(try version(context, ["-tls1_1"] + Self.legacyClient) == nil)
        #expect(try version(context, ["-tls1_2"]) == nil)
        #expect(try version(context, []) == nil)

        // smtps: wrapper mode means encrypt, whatever smtpd_tls_security_level says.
        let smtps = try serverSettings(
            material.rsaServer + "smtpd_tls_mandatory_protocols = TLSv1\n", master: """
                smtps inet n - n - - smtpd
                  -o smtpd_tls_wrappermode=yes
                  -o smtpd_tls_security_level=may
                """, service: "smtps/inet")
        #expect(smtps.securityLevel == .encrypt)
        #expect(smtps.protocols.allowedVersions == [.tlsv1])
        let smtpsContext = try TLSServerContextBuilder.makeContext(smtps)
        let (outcome, _) = try SClient.handshake(smtpsContext, mode: .implicit, ["-tls1"] + Self.legacyClient)
        #expect(outcome?.info?.protocolVersion == "TLSv1")
        let (modern, _) = try SClient.handshake(smtpsContext, mode: .implicit, [])
        #expect(modern?.info == nil)

        // At "may" (port 25) the opportunistic list applies and TLS 1.3 works.
        let port25 = try serverContext(material.rsaServer + "smtpd_tls_mandatory_protocols = TLSv1\n")
        #expect(try version(port25, []) == "TLSv1.3")
    }

    /// The ground truth for the test above: Postfix 3.7's own parser (posttls-finger `-p` goes through the same
    /// `tls_proto_mask_lims()`) reads a bare `TLSv1` as "TLS 1.0 only".
    @Test("Postfix itself reads the bare TLSv1 as TLS 1.0 only (posttls-finger -p TLSv1)")
    func postfixReadsBareTLSv1() throws {
        guard let material = try ContextTestMaterial.shared(),
              let finger = ExternalTool.require("posttls-finger", package: "postfix")
        else { return }
        try FileManager.default.createDirectory(atPath: material.directory + "/postfix", withIntermediateDirectories: true)
        try material.fixtures.write("postfix/main.cf", "compatibility_level = 3.7\n")
        func probe(_ serverArguments: [String]) throws -> String {
            let server = try ClientContextTests.SServer(material, serverArguments)
            return try ExternalTool.run(
                finger, ["-w", "-c", "-t", "2", "-p", "TLSv1", "-l", "may", "[127.0.0.1]:\(server.port)"],
                environment: ["MAIL_CONFIG": material.directory + "/postfix"]).all
        }
        let legacy = try probe(["-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(legacy.contains("TLS connection established to 127.0.0.1[127.0.0.1]:"), "\(legacy)")
        #expect(legacy.contains(": TLSv1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)"), "\(legacy)")
        let modern = try probe(["-tls1_2"])
        #expect(modern.contains("SSL_connect error"), "\(modern)")
        #expect(modern.contains("alert protocol version"), "\(modern)")
    }

    @Test("a required client certificate raises the security level to 1, which rules TLS 1.0 out entirely")
    func requiredCertificateForbidsTLS10() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let context = try serverContext(material.rsaServer + """
            smtpd_tls_security_level = encrypt
            smtpd_tls_mandatory_protocols = TLSv1
            smtpd_tls_req_ccert = yes
            smtpd_tls_CAfile = \(material.caCertificate)

            """)
        let arguments = ["-tls1", "-cert", material.clientCertificate, "-key", material.clientKey] + Self.legacyClient
        #expect(try version(context, arguments) == nil)
    }

    @Test("a list that leaves no version is refused at start-up")
    func nothingLeft() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let error = #expect(throws: TLSConfigurationError.self) {
            try serverSettings(material.rsaServer + "smtpd_tls_protocols = !TLSv1, !TLSv1.1, !TLSv1.2, !TLSv1.3\n")
        }
        #expect(error?.code == .invalidProtocols)
        #expect(error?.parameter == "smtpd_tls_protocols")
    }
}
