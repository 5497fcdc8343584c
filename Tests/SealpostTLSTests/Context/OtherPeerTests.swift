import Foundation
import Testing

@testable import SealpostTLS

/// The server context against clients that are not OpenSSL's s_client: GnuTLS, Python's ssl module, and Postfix's
/// own posttls-finger, whose summary line is the reference for Sealpost's wording.
@Suite("Server context: gnutls-cli, Python ssl and posttls-finger")
struct OtherPeerTests {
    @Test("gnutls-cli over STARTTLS and in wrapper mode")
    func gnutls() throws {
        guard let material = try ContextTestMaterial.shared(),
              let gnutls = ExternalTool.require("gnutls-cli", package: "gnutls-bin")
        else { return }
        let context = try serverContext(material.rsaServer)
        let server = try BlockingTLSServer(context: context)
        let output = try ExternalTool.run(
            gnutls, ["--insecure", "--starttls-proto=smtp", "--port", "\(server.port)", "127.0.0.1"])
        let info = try #require(server.finish().first?.info, "\(output.all)")
        #expect(output.all.contains("Handshake was completed"), "\(output.all)")
        #expect(info.protocolVersion == "TLSv1.3")
        // GnuTLS sends a P-256 key share first.
        #expect(output.all.contains("(TLS1.3-X.509)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)"))
        #expect(info.summaryLine(peer: "localhost[127.0.0.1]") ==
            "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
            + "(256/256 bits) key-exchange ECDHE (prime256v1) server-signature RSA-PSS (2048 bits) server-digest SHA256")

        let wrapped = try BlockingTLSServer(context: serverContext(material.rsaServer + "smtpd_tls_wrappermode = yes\n"), mode: .implicit)
        let tls12 = try ExternalTool.run(
            gnutls, ["--insecure", "--priority", "NORMAL:-VERS-TLS1.3", "--port", "\(wrapped.port)", "127.0.0.1"])
        #expect(wrapped.finish().first?.info?.protocolVersion == "TLSv1.2", "\(tls12.all)")
    }

    @Test("Python ssl (smtplib-style STARTTLS by hand)")
    func python() throws {
        guard let material = try ContextTestMaterial.shared(),
              let python = ExternalTool.require("python3", package: "python3")
        else { return }
        let context = try serverContext(material.rsaServer + "smtpd_tls_ask_ccert = yes\nsmtpd_tls_CAfile = \(material.caCertificate)\n")
        let server = try BlockingTLSServer(context: context)
        let script = """
            import socket, ssl, sys
            sock = socket.create_connection(("127.0.0.1", \(server.port)))
            f = sock.makefile("rb")
            def reply():
                while True:
                    line = f.readline().decode()
                    if line[3:4] != "-":
                        return line
            reply()
            sock.sendall(b"EHLO python\\r\\n"); reply()
            sock.sendall(b"STARTTLS\\r\\n"); reply()
            context = ssl.create_default_context(cafile="\(material.caCertificate)")
            context.load_cert_chain("\(material.clientCertificate)", "\(material.clientKey)")
            tls = context.wrap_socket(sock, server_hostname="mail.example.com")
            print(tls.version(), tls.cipher()[0], tls.recv(100).decode().strip())
            tls.close()
            """
        let output = try ExternalTool.run(python, ["-c", script])
        let info = try #require(server.finish().first?.info, "\(output.all)")
        #expect(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "TLSv1.3 TLS_AES_256_GCM_SHA384 250 2.0.0 TLS ok",
                "\(output.all)")
        #expect(info.trust == .trusted)
        #expect(info.peerCommonName == "client.example.com")
    }

    /// posttls-finger is Postfix's TLS client: its "TLS connection established" line for the same handshake is
    /// Postfix's own wording, from the other side. Everything from the protocol on must be identical.
    @Test("posttls-finger's summary of the same handshake matches Sealpost's, word for word",
          arguments: ["rsa", "ec", "tls12"])
    func posttlsFinger(variant: String) throws {
        guard let material = try ContextTestMaterial.shared(),
              let finger = ExternalTool.require("posttls-finger", package: "postfix")
        else { return }
        var lines = "smtpd_tls_security_level = may\n"
        switch variant {
        case "ec": lines += "smtpd_tls_eccert_file = \(material.ecCertificate)\nsmtpd_tls_eckey_file = \(material.ecKey)\n"
        case "tls12": lines = material.rsaServer + "smtpd_tls_protocols = <=TLSv1.2\n"
        default: lines = material.rsaServer
        }
        let context = try serverContext(lines)
        let server = try BlockingTLSServer(context: context)
        try FileManager.default.createDirectory(atPath: material.directory + "/postfix", withIntermediateDirectories: true)
        try material.fixtures.write("postfix/main.cf", "compatibility_level = 3.7\n")
        let output = try ExternalTool.run(
            finger, ["-c", "-l", "may", "[127.0.0.1]:\(server.port)"],
            environment: ["MAIL_CONFIG": material.directory + "/postfix"])
        let info = try #require(server.finish().first?.info, "\(output.all)")
        let postfixLine = try #require(output.all.split(separator: "\n").first { $0.contains("TLS connection established to") },
                                       "\(output.all)")
        let theirs = String(postfixLine[postfixLine.range(of: "]:\(server.port): ")!.upperBound...])
        let ours = info.summaryLine(peer: "localhost[127.0.0.1]")
        let mine = String(ours[ours.range(of: "localhost[127.0.0.1]: ")!.upperBound...])
        #expect(mine == theirs)
        #expect(postfixLine.hasSuffix(": " + theirs))
        // At "may" Postfix's client offers anonymous suites too (after the others); without a TLS 1.3 certificate
        // exchange to win, a TLS 1.2 server that follows the client's order picks ADH, and both sides say Anonymous.
        let trust = variant == "tls12" ? "Anonymous" : "Untrusted"
        #expect(postfixLine.contains("\(trust) TLS connection established to 127.0.0.1[127.0.0.1]:\(server.port): "))
        if variant == "tls12" {
            #expect(theirs == "TLSv1.2 with cipher ADH-AES256-GCM-SHA384 (256/256 bits)")
        }
    }
}
