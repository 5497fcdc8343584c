import Foundation
import SealpostTestSupport
import Testing

/// `tls_server_sni_maps` in the running server: the SNI name picks its chain over STARTTLS, clients without SNI get
/// the default certificate, and a renewed SNI chain file is picked up by the certificate watcher.
@Suite(.serialized) struct ServerNameReloadTests {
    /// Python: STARTTLS on the smtp port with `name` as SNI (None: no SNI); prints the peer certificate's SHA-256.
    static let probe = """
        import hashlib, socket, ssl, sys
        def fingerprint(port, name):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = socket.create_connection(('127.0.0.1', port), timeout=30)
            f = sock.makefile('rb')
            def reply():
                while True:
                    line = f.readline()
                    if line[3:4] != b'-': return line
            reply()
            sock.sendall(b'EHLO client.example\\r\\n'); reply()
            sock.sendall(b'STARTTLS\\r\\n'); assert reply().startswith(b'220')
            tls = ctx.wrap_socket(sock, server_hostname=name)
            der = tls.getpeercert(binary_form=True)
            tls.sendall(b'QUIT\\r\\n')
            tls.close()
            return hashlib.sha256(der).hexdigest()
        def file_fingerprint(path):
            pem = open(path).read()
            start = pem.index('-----BEGIN CERTIFICATE-----')
            return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem[start:])).hexdigest()

        """

    @Test func theSNINameSelectsItsChainAndARenewedChainIsReloaded() throws {
        let instance = try MailInstance(mainExtra: """
            smtpd_tls_reload_interval = 1s
            tls_server_sni_maps = texthash:DIRECTORY/sni
            """)
        let f = instance.fixtures
        let root = instance.directory
        try f.write("main.cf", try f.read("main.cf").replacingOccurrences(of: "DIRECTORY", with: root), mode: 0o644)
        for generation in [1, 2] {
            try f.ecKey("sni\(generation).key")
            try f.selfSigned(
                "sni\(generation).pem", key: "sni\(generation).key", subject: "/CN=sni.example.test",
                subjectAltName: "DNS:sni.example.test", days: 30)
            try f.concatenate(["sni\(generation).key", "sni\(generation).pem"], into: "sni-chain\(generation).pem")
            chown(f.path("sni-chain\(generation).pem"), MailInstance.owner.uid, MailInstance.owner.gid)
        }
        try FileManager.default.copyItem(atPath: f.path("sni-chain1.pem"), toPath: f.path("sni-chain.pem"))
        try f.write("sni", "sni.example.test \(f.path("sni-chain.pem"))\n", mode: 0o644)
        for name in ["key.pem", "sni-chain.pem"] { chown(f.path(name), MailInstance.owner.uid, MailInstance.owner.gid) }
        try instance.start()
        let output = try python(Self.probe + """
            port = \(instance.smtpPort)
            first = file_fingerprint('\(f.path("sni1.pem"))')
            second = file_fingerprint('\(f.path("sni2.pem"))')
            default = file_fingerprint('\(f.path("cert.pem"))')
            print('sni-first', fingerprint(port, 'sni.example.test') == first)
            print('no-sni-default', fingerprint(port, None) == default)
            print('other-default', fingerprint(port, 'other.example.test') == default)
            import os, time
            os.rename('\(f.path("sni-chain2.pem"))', '\(f.path("sni-chain.pem"))')
            start = time.monotonic()
            seen = False
            while time.monotonic() - start < 5:
                if fingerprint(port, 'sni.example.test') == second:
                    seen = True
                    break
                time.sleep(0.1)
            print('sni-renewed', seen)
            print('no-sni-still-default', fingerprint(port, None) == default)
            """)
        for line in ["sni-first True", "no-sni-default True", "other-default True", "sni-renewed True", "no-sni-still-default True"] {
            #expect(output.contains(line), "\(output)\n\(instance.log)")
        }
        #expect(instance.log.contains("TLS SNI other.example.test from localhost[127.0.0.1] not matched, using default chain"))
        #expect(instance.log.contains("certificate reloaded: service"))
        #expect(instance.log.contains("TLS connection established from localhost[127.0.0.1] to sni.example.test: TLSv1.3"))
    }
}
