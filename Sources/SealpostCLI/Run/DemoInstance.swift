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
    static func prepare() throws -> (path: String, created: Bool) {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil else { throw LifecycleError(message: "cannot determine the current directory") }
        let path = String(cString: buffer) + "/" + directoryName
        if access(path + "/main.cf", F_OK) == 0 { return (path, false) }

        try Directories.create(path + "/tls", mode: 0o700)
        try Directories.create(path + "/mail", mode: 0o700)
        let (certificate, key) = try SelfSignedCertificate.generate(
            key: .rsa(bits: 2048), commonName: "mail.example.test",
            subjectAlternativeNames: ["mail.example.test", "localhost", "127.0.0.1"], validityDays: 365)
        try SelfSignedCertificate.write(
            certificatePEM: certificate, toCertificateFile: path + "/tls/cert.pem",
            privateKeyPEM: key, toKeyFile: path + "/tls/key.pem")
        try CredentialFileWriter.writeAtomically(mainCf, to: path + "/main.cf", mode: 0o644)
        try CredentialFileWriter.writeAtomically(masterCf, to: path + "/master.cf", mode: 0o644)
        try CredentialFileWriter.writeAtomically("demo@example.test    example.test/demo/\n", to: path + "/vmailbox", mode: 0o644)
        return (path, true)
    }

    static func banner(path: String, created: Bool) -> String {
        """
        Sealpost demo instance \(created ? "created" : "reused") in \(path)
          configuration: \(path)/main.cf and master.cf (modelled on the Postfix TLS guide)
          certificate:   \(path)/tls/cert.pem (self-signed for mail.example.test)
          services:      smtp on 127.0.0.1:2525, submission on 127.0.0.1:2587, smtps on 127.0.0.1:2465
          log:           this terminal
        This version checks, logs, reloads (kill -HUP) and stops (Ctrl-C); the SMTP server that
        listens on these ports comes with the next version, and start-up names every setting that
        is not in effect yet.

        """
    }

    static let mainCf = """
        # Sealpost demo instance, created by `sealpost run --demo`.
        # Modelled on the Postfix TLS guide; $config_directory is this directory.

        myhostname = mail.example.test
        mydomain = example.test
        queue_directory = $config_directory/queue
        data_directory = $config_directory/data
        maillog_file = /dev/stdout

        # TLS: a generated self-signed certificate, opportunistic STARTTLS on port 25 style
        # services, AUTH only over TLS, TLS details in the Received header.
        smtpd_tls_cert_file = $config_directory/tls/cert.pem
        smtpd_tls_key_file = $config_directory/tls/key.pem
        smtpd_tls_security_level = may
        smtpd_tls_auth_only = yes
        smtpd_tls_received_header = yes
        smtpd_tls_loglevel = 1
        smtp_tls_security_level = may

        # Our own domain, delivered to Maildir under $config_directory/mail.
        virtual_mailbox_domains = example.test
        virtual_mailbox_base = $config_directory/mail
        virtual_mailbox_maps = texthash:$config_directory/vmailbox

        """

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
