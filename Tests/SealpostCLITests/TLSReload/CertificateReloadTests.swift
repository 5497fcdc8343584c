import Foundation
import SealpostTestSupport
import Testing

/// Certificate hot reload: the files behind smtpd_tls_cert_file/key_file are replaced while 20 clients do
/// STARTTLS and QUIT over and over; no session may fail, and new connections must present the new certificate
/// within 5 seconds. A replacement whose key does not match is refused with a warning and the old one kept.
@Suite(.serialized) struct CertificateReloadTests {
    /// The Python peer: `threads` clients doing EHLO, STARTTLS, EHLO, QUIT in a loop; after a second the
    /// `REPLACE` code runs, then fresh connections are made until one presents the certificate in `expect`
    /// (SHA-256 of its DER form) or 5 seconds pass; the load goes on a second more. Prints counters.
    static func loadScript(port: Int, replace: String, expect: String) -> String {
        """
        import hashlib, os, socket, ssl, smtplib, threading, time
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        stop = threading.Event()
        lock = threading.Lock()
        counts = {'ok': 0, 'failed': 0}
        errors = []
        def fingerprint():
            s = smtplib.SMTP('127.0.0.1', \(port), timeout=30)
            s.ehlo('load.example')
            s.starttls(context=ctx)
            der = s.sock.getpeercert(binary_form=True)
            s.ehlo('load.example')
            s.quit()
            return hashlib.sha256(der).hexdigest()
        def worker():
            while not stop.is_set():
                try:
                    fingerprint()
                    with lock: counts['ok'] += 1
                except Exception as e:
                    with lock:
                        counts['failed'] += 1
                        errors.append(repr(e))
        threads = [threading.Thread(target=worker) for _ in range(20)]
        for t in threads: t.start()
        time.sleep(1)
        expected = hashlib.sha256(ssl.PEM_cert_to_DER_cert(open('\(expect)').read())).hexdigest()
        before = fingerprint()
        \(replace)
        replaced = time.monotonic()
        seen = None
        while time.monotonic() - replaced < 5:
            if fingerprint() == expected:
                seen = time.monotonic() - replaced
                break
            time.sleep(0.1)
        time.sleep(1)
        stop.set()
        for t in threads: t.join()
        print('before-is-new', before == expected)
        print('seen-new', seen is not None)
        print('sessions', counts['ok'])
        print('failed', counts['failed'], errors[:3])
        """
    }

    /// A second key and certificate, `CN=renewed.example.test`, readable by the account Sealpost runs as.
    static func makeRenewal(_ instance: MailInstance, key: String, certificate: String) throws {
        let fixtures = instance.fixtures
        try fixtures.rsaKey(key)
        try fixtures.selfSigned(
            certificate, key: key, subject: "/CN=renewed.example.test",
            subjectAltName: "DNS:renewed.example.test", days: 30)
        try readableByMailOwner(instance, [key, certificate])
    }

    /// Sealpost drops root after binding its ports, so a reload reads the files as mail_owner (as Postfix's smtpd
    /// processes read them after master started them as root, only once, which is why Postfix needs a reload).
    static func readableByMailOwner(_ instance: MailInstance, _ names: [String]) throws {
        for name in names {
            chown(instance.fixtures.path(name), MailInstance.owner.uid, MailInstance.owner.gid)
            chmod(instance.fixtures.path(name), 0o600)
        }
    }

    static func expectCleanRun(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(output.contains("before-is-new False"), "\(output)", sourceLocation: sourceLocation)
        #expect(output.contains("seen-new True"), "\(output)", sourceLocation: sourceLocation)
        #expect(output.contains("failed 0 []"), "\(output)", sourceLocation: sourceLocation)
        let sessions = output.split(separator: "\n").first { $0.hasPrefix("sessions ") }.flatMap { Int($0.dropFirst(9)) } ?? 0
        #expect(sessions >= 20, "\(output)", sourceLocation: sourceLocation)
    }

    @Test func filesRenamedOverAreServedToNewConnectionsWithoutFailingAny() throws {
        let instance = try MailInstance(mainExtra: "smtpd_tls_reload_interval = 1s")
        try Self.readableByMailOwner(instance, ["key.pem", "cert.pem"])
        try Self.makeRenewal(instance, key: "new-key.pem", certificate: "new-cert.pem")
        try instance.fixtures.concatenate(["new-cert.pem"], into: "expected.pem")
        try instance.start()
        let directory = instance.directory
        let output = try python(Self.loadScript(
            port: instance.smtpPort,
            replace: "os.rename('\(directory)/new-key.pem', '\(directory)/key.pem'); "
                + "os.rename('\(directory)/new-cert.pem', '\(directory)/cert.pem')",
            expect: "\(directory)/expected.pem"))
        Self.expectCleanRun(output)
        #expect(instance.waitForLog("certificate reloaded: service"), "\(instance.log)")
        let reloaded = instance.log.split(separator: "\n").first { $0.contains("certificate reloaded") } ?? ""
        #expect(reloaded.contains("renewed.example.test") && reloaded.contains("expires"), "\(reloaded)")
    }

    @Test func certbotStyleSymlinkSwapIsFollowed() throws {
        // certbot keeps archive/NAME/certN.pem and points live/NAME/cert.pem at the newest with a relative symlink.
        let instance = try MailInstance(mainExtra: """
            smtpd_tls_reload_interval = 1s
            smtpd_tls_cert_file = DIRECTORY/live/mx/fullchain.pem
            smtpd_tls_key_file = DIRECTORY/live/mx/privkey.pem
            """)
        let root = instance.directory
        try instance.fixtures.write(
            "main.cf", try instance.fixtures.read("main.cf").replacingOccurrences(of: "DIRECTORY", with: root), mode: 0o644)
        try Self.makeRenewal(instance, key: "privkey2.pem", certificate: "fullchain2.pem")
        for folder in ["archive/mx", "live/mx"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        for (from, to) in [("key.pem", "privkey1.pem"), ("cert.pem", "fullchain1.pem"), ("privkey2.pem", "privkey2.pem"),
                           ("fullchain2.pem", "fullchain2.pem")] {
            try FileManager.default.copyItem(atPath: "\(root)/\(from)", toPath: "\(root)/archive/mx/\(to)")
        }
        try Self.readableByMailOwner(
            instance, ["archive/mx/privkey1.pem", "archive/mx/privkey2.pem", "archive/mx/fullchain1.pem", "archive/mx/fullchain2.pem"])
        try FileManager.default.createSymbolicLink(atPath: "\(root)/live/mx/privkey.pem", withDestinationPath: "../../archive/mx/privkey1.pem")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/live/mx/fullchain.pem", withDestinationPath: "../../archive/mx/fullchain1.pem")
        try instance.start()
        let output = try python(Self.loadScript(
            port: instance.smtpPort,
            replace: """
                for name in ['privkey', 'fullchain']:
                        os.symlink('../../archive/mx/%s2.pem' % name, '\(root)/live/mx/%s.pem.new' % name)
                        os.rename('\(root)/live/mx/%s.pem.new' % name, '\(root)/live/mx/%s.pem' % name)
                """,
            expect: "\(root)/archive/mx/fullchain2.pem"))
        Self.expectCleanRun(output)
        #expect(instance.waitForLog("certificate reloaded: service"), "\(instance.log)")
    }

    @Test func aMismatchedKeyKeepsTheOldCertificateAndIsLogged() throws {
        let instance = try MailInstance(mainExtra: "smtpd_tls_reload_interval = 1s")
        try Self.readableByMailOwner(instance, ["key.pem", "cert.pem"])
        try Self.makeRenewal(instance, key: "new-key.pem", certificate: "new-cert.pem")
        try instance.fixtures.concatenate(["cert.pem"], into: "old-cert.pem")
        try instance.start()
        // Only the certificate is replaced: it no longer matches key.pem.
        #expect(rename(instance.fixtures.path("new-cert.pem"), instance.fixtures.path("cert.pem")) == 0)
        #expect(instance.waitForLog("keeping the current certificate"), "\(instance.log)")
        let warning = instance.log.split(separator: "\n").first { $0.contains("keeping the current certificate") } ?? ""
        #expect(warning.contains("warning:") && warning.contains("\(instance.directory)/cert.pem"), "\(warning)")
        #expect(!instance.log.contains("certificate reloaded"))
        let output = try python("""
            import hashlib, ssl, smtplib
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = smtplib.SMTP('127.0.0.1', \(instance.smtpPort), timeout=30)
            s.ehlo('client.example')
            s.starttls(context=ctx)
            der = s.sock.getpeercert(binary_form=True)
            s.quit()
            old = ssl.PEM_cert_to_DER_cert(open('\(instance.fixtures.path("old-cert.pem"))').read())
            print('old-certificate', der == old)
            """)
        #expect(output.contains("old-certificate True"), "\(output)")
    }

    @Test func withPollingOffSIGHUPReloadsTheCertificateForSTARTTLSAndWrapperMode() throws {
        let instance = try MailInstance(mainExtra: "smtpd_tls_reload_interval = 0")
        try Self.readableByMailOwner(instance, ["key.pem", "cert.pem"])
        try Self.makeRenewal(instance, key: "new-key.pem", certificate: "new-cert.pem")
        try instance.fixtures.concatenate(["new-cert.pem"], into: "expected.pem")
        try instance.start()
        let f = instance.fixtures
        #expect(rename(f.path("new-key.pem"), f.path("key.pem")) == 0)
        #expect(rename(f.path("new-cert.pem"), f.path("cert.pem")) == 0)
        let probe = """
            import hashlib, smtplib, socket, ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            expected = hashlib.sha256(ssl.PEM_cert_to_DER_cert(open('\(f.path("expected.pem"))').read())).hexdigest()
            s = smtplib.SMTP('127.0.0.1', \(instance.smtpPort), timeout=30)
            s.ehlo('client.example')
            s.starttls(context=ctx)
            print('starttls-new', hashlib.sha256(s.sock.getpeercert(binary_form=True)).hexdigest() == expected)
            s.quit()
            w = ctx.wrap_socket(socket.create_connection(('127.0.0.1', \(instance.smtpsPort)), timeout=30))
            print('wrapper-new', hashlib.sha256(w.getpeercert(binary_form=True)).hexdigest() == expected)
            w.close()
            """
        // Nothing polls: the files changed, the running certificate did not.
        let unchanged = try python(probe)
        #expect(unchanged.contains("starttls-new False") && unchanged.contains("wrapper-new False"), "\(unchanged)")
        instance.process?.signal(SIGHUP)
        #expect(instance.waitForLog("reload -- version"), "\(instance.log)")
        let reloaded = try python(probe)
        #expect(reloaded.contains("starttls-new True") && reloaded.contains("wrapper-new True"), "\(reloaded)")
    }
}
