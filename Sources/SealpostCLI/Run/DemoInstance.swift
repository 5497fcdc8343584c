import SealpostConfig
import SealpostSASL
import SealpostServer
import SealpostTLS

#if canImport(Glibc)
import Glibc
#endif

/// The self-contained demo instance of `sealpost run --demo`: configuration modelled on the
/// Postfix TLS guide, a generated self-signed certificate, and every directory under
/// `./.sealpost-demo/`. Created on first run, reused afterwards.
enum DemoInstance {
    static let directoryName = ".sealpost-demo"

    /// Creates the instance under the current directory unless it exists; returns its absolute path
    /// and whether it was created now.
    ///
    /// Run as root, the instance is set up the way a production install would be: the server drops
    /// to `nobody` after binding, so the files it reads later (key, passwd-file) and the Maildir
    /// tree belong to that account.
    static func prepare() throws -> (path: String, created: Bool) {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil else { throw LifecycleError(message: "cannot determine the current directory") }
        let current = String(cString: buffer)
        let link = current + "/" + directoryName
        if access(link + "/main.cf", F_OK) == 0 { return (resolved(link), false) }

        let owner = try mailboxOwner()
        if let owner, let blocked = firstDirectoryClosedToOthers(current) {
            // The server runs as nobody after binding and must reach its files on every reload
            // and delivery; a home such as /root (0700) would stop it. The instance then lives in
            // a fresh directory under /var/tmp, and ./.sealpost-demo links to it.
            try linkToSharedDirectory(from: link, because: blocked, owner: owner)
        }
        try Directories.create(link, mode: 0o755)
        // Through the link, if there is one: every path in main.cf must be reachable for nobody.
        let path = resolved(link)
        try Directories.create(path + "/tls", mode: 0o700)
        try Directories.create(path + "/mail", mode: 0o700)
        let (certificate, key) = try SelfSignedCertificate.generate(
            key: .rsa(bits: 2048), commonName: "mail.example.test",
            subjectAlternativeNames: ["mail.example.test", "localhost", "127.0.0.1"], validityDays: 365)
        try SelfSignedCertificate.write(
            certificatePEM: certificate, toCertificateFile: path + "/tls/cert.pem",
            privateKeyPEM: key, toKeyFile: path + "/tls/key.pem")
        let password = generatePassword()
        let field: String
        do {
            field = try PasswordHasher.passwordField(for: Array(password.utf8), method: PasswordHasher.defaultMethod)
        } catch {
            throw LifecycleError(message: "cannot hash the demo password: \(error.description)")
        }
        try CredentialFileWriter.writeAtomically("\(user):\(field)\n", to: path + "/passwd", mode: 0o600)
        try CredentialFileWriter.writeAtomically(password + "\n", to: path + "/demo-password", mode: 0o600)
        try CredentialFileWriter.writeAtomically("\(user)    example.test/demo/\n", to: path + "/vmailbox", mode: 0o644)
        try CredentialFileWriter.writeAtomically(masterCf, to: path + "/master.cf", mode: 0o644)
        if let owner {
            for file in ["/tls", "/tls/cert.pem", "/tls/key.pem", "/mail", "/passwd"] {
                guard chown(path + file, owner.uid, owner.gid) == 0 else {
                    throw LifecycleError.system("chown \(path + file) to \(owner.name)", errno)
                }
            }
        }
        let uid = owner?.uid ?? geteuid(), gid = owner?.gid ?? getegid()
        // Written last: its presence marks a complete instance.
        try CredentialFileWriter.writeAtomically(
            mainCf(mailOwner: owner?.name, uid: uid, gid: gid), to: path + "/main.cf", mode: 0o644)
        return (path, true)
    }

    /// `path` with symbolic links resolved.
    private static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// The first directory on the way to `path` (itself included) that others may not search.
    private static func firstDirectoryClosedToOthers(_ path: String) -> String? {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var status = stat()
            if stat(prefix, &status) != 0 || status.st_mode & S_IXOTH == 0 { return prefix }
        }
        return nil
    }

    private static func linkToSharedDirectory(from path: String, because blocked: String, owner: Privileges.Account) throws {
        var link = stat()
        if lstat(path, &link) == 0 {
            // A link left from an earlier instance whose directory is gone (/var/tmp cleaned).
            guard link.st_mode & S_IFMT == S_IFLNK, unlink(path) == 0 else {
                throw LifecycleError(message: "\(path) exists but holds no demo instance; remove it")
            }
        }
        var template = Array("/var/tmp/sealpost-demo.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw LifecycleError.system("mkdtemp /var/tmp/sealpost-demo.XXXXXX", errno) }
        let target = String(cString: made)
        guard chmod(target, 0o755) == 0, symlink(target, path) == 0 else {
            throw LifecycleError.system("link \(path) to \(target)", errno)
        }
        Terminal.out("\(blocked) is closed to \(owner.name), the account the demo server runs as: the instance lives in \(target)\n")
    }

    /// The demo's one mailbox and SMTP AUTH login.
    static let user = "demo@example.test"

    /// `nobody` when running as root (the account the server drops to), else nil: the server keeps
    /// the current user's identity and mailboxes belong to it.
    private static func mailboxOwner() throws(LifecycleError) -> Privileges.Account? {
        Privileges.isRoot ? try Privileges.account(named: "nobody") : nil
    }

    /// Sixteen letters and digits from the system's cryptographic generator.
    private static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    static func banner(path: String, created: Bool) -> String {
        let password: String
        switch readFile(path + "/demo-password") {
        case .success(let bytes): password = String(decoding: bytes.filter { $0 > 0x20 }, as: UTF8.self)
        case .failure: password = "(see \(path)/demo-password)"
        }
        return """
            Sealpost demo instance \(created ? "created" : "reused") in \(path)
              configuration: \(path)/main.cf and master.cf (modelled on the Postfix TLS guide)
              certificate:   \(path)/tls/cert.pem (self-signed for mail.example.test)
              services:      smtp on 127.0.0.1:2525, submission on 127.0.0.1:2587, smtps on 127.0.0.1:2465
              mailbox:       \(user), delivered to \(path)/mail/example.test/demo/ (Maildir)
              SMTP AUTH:     \(user), password \(password)
              log:           this terminal
            Try (with swaks installed):
              swaks --server 127.0.0.1:2525 --to \(user) -tls
              swaks --server 127.0.0.1:2587 --to \(user) --from \(user) -tls --auth-user \(user) --auth-password \(password)
              swaks --server 127.0.0.1:2465 --to \(user) --from \(user) --tls-on-connect --auth-user \(user) --auth-password \(password)
            Mail to other domains from authenticated users is sent on over SMTP (MX lookup,
            opportunistic STARTTLS); `sealpost queue -c \(path) list` shows what waits.
            `sealpost sendmail -C \(path) \(user) < message` submits local mail.
            kill -HUP reloads, Ctrl-C stops.

            """
    }

    static func mainCf(mailOwner: String?, uid: uid_t, gid: gid_t) -> String {
        """
        # Sealpost demo instance, created by `sealpost run --demo`.
        # Modelled on the Postfix TLS guide; $config_directory is this directory.

        myhostname = mail.example.test
        mydomain = example.test
        queue_directory = $config_directory/queue
        data_directory = $config_directory/data
        maillog_file = /dev/stdout
        \(mailOwner.map { "mail_owner = \($0)\n" } ?? "")
        # TLS: a generated self-signed certificate, opportunistic STARTTLS on port 25 style
        # services, AUTH only over TLS, TLS details in the Received header.
        smtpd_tls_cert_file = $config_directory/tls/cert.pem
        smtpd_tls_key_file = $config_directory/tls/key.pem
        smtpd_tls_security_level = may
        smtpd_tls_auth_only = yes
        smtpd_tls_received_header = yes
        smtpd_tls_loglevel = 1

        # SMTP AUTH (enabled per service in master.cf) against a Dovecot-format passwd-file;
        # `sealpost passwd -c $config_directory add USER` adds users.
        smtpd_sasl_type = passwd-file
        smtpd_sasl_path = $config_directory/passwd

        # Local users (mydestination) get Maildirs in their homes; mbox is not supported.
        home_mailbox = Maildir/

        # Our own domain, delivered to Maildir under $config_directory/mail.
        virtual_mailbox_domains = example.test
        virtual_mailbox_base = $config_directory/mail
        virtual_mailbox_maps = texthash:$config_directory/vmailbox
        virtual_uid_maps = static:\(uid)
        virtual_gid_maps = static:\(gid)

        """
    }

    static let masterCf = """
        # Sealpost demo services: the seed's smtp, submission and smtps entries on loopback ports.
        127.0.0.1:2525 inet  n       -       n       -       -       smtpd
        127.0.0.1:2587 inet  n       -       n       -       -       smtpd
          -o syslog_name=postfix/submission
          -o smtpd_tls_security_level=encrypt
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_tls_auth_only=yes
          -o smtpd_reject_unlisted_recipient=no
          -o smtpd_recipient_restrictions=
          -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
          -o milter_macro_daemon_name=ORIGINATING
        127.0.0.1:2465 inet  n       -       n       -       -       smtpd
          -o syslog_name=postfix/smtps
          -o smtpd_tls_wrappermode=yes
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_reject_unlisted_recipient=no
          -o smtpd_recipient_restrictions=
          -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
          -o milter_macro_daemon_name=ORIGINATING

        """
}
