import Foundation
import Testing

@testable import SealpostTLS
import SealpostTestSupport

/// What the certificate watcher compares: file identities along symlink chains, and the checks a reload makes
/// before it swaps credentials in.
@Suite("Certificate reload: file snapshots and credential checks")
struct CredentialFileSnapshotTests {
    @Test("rewriting, renaming over, re-pointing a symlink and removing are each a change; touching nothing is none")
    func changes() throws {
        let directory = try TemporaryDirectory()
        let root = directory.path
        func write(_ name: String, _ text: String) throws {
            try text.write(toFile: "\(root)/\(name)", atomically: false, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: "\(root)/archive", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/live", withIntermediateDirectories: true)
        try write("archive/cert1.pem", "one")
        try write("archive/cert2.pem", "two")
        try write("plain.pem", "plain")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/live/cert.pem", withDestinationPath: "../archive/cert1.pem")
        let paths = ["\(root)/live/cert.pem", "\(root)/plain.pem", "", "\(root)/plain.pem"]

        var before = TLSCredentialFileSnapshot.take(paths)
        #expect(before.entries.count == 2, "empty and repeated paths are skipped")
        #expect(before.entries[0].hops.count == 2, "the symlink and the file it names")
        #expect(before.entries[0].resolvedPath?.hasSuffix("/archive/cert1.pem") == true)
        #expect(before.changedPaths(in: TLSCredentialFileSnapshot.take(paths)).isEmpty)

        // certbot's renewal: a new archive file and the live symlink pointed at it.
        try FileManager.default.removeItem(atPath: "\(root)/live/cert.pem")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/live/cert.pem", withDestinationPath: "../archive/cert2.pem")
        var after = TLSCredentialFileSnapshot.take(paths)
        #expect(before.changedPaths(in: after) == ["\(root)/live/cert.pem"])

        // A file renamed over the old one (a new inode), even with the same size.
        before = after
        try write("plain.new", "PLAIN")
        #expect(rename("\(root)/plain.new", "\(root)/plain.pem") == 0)
        after = TLSCredentialFileSnapshot.take(paths)
        #expect(before.changedPaths(in: after) == ["\(root)/plain.pem"])

        // The archive file the symlink names rewritten in place.
        before = after
        try write("archive/cert2.pem", "two, longer")
        after = TLSCredentialFileSnapshot.take(paths)
        #expect(before.changedPaths(in: after) == ["\(root)/live/cert.pem"])

        // Removed: the entry records the error instead of the file.
        before = after
        try FileManager.default.removeItem(atPath: "\(root)/plain.pem")
        after = TLSCredentialFileSnapshot.take(paths)
        #expect(before.changedPaths(in: after) == ["\(root)/plain.pem"])
        #expect(after.entries[1].error == ENOENT && after.entries[1].hops.isEmpty)

        // A symlink loop ends without hanging.
        try FileManager.default.createSymbolicLink(atPath: "\(root)/loop", withDestinationPath: "loop")
        let loop = TLSCredentialFileSnapshot.take(["\(root)/loop"])
        #expect(loop.entries[0].hops.count == TLSCredentialFileSnapshot.maximumHops)
    }

    @Test("the files watched: chain files replace the legacy pairs; CA and DH files are added, 'none' and 'auto' are not")
    func watchedFiles() {
        let legacy = serviceConfiguration("""
            smtpd_tls_cert_file = /etc/ssl/cert.pem
            smtpd_tls_key_file = /etc/ssl/key.pem
            smtpd_tls_eccert_file = /etc/ssl/ec.pem
            smtpd_tls_eckey_file = /etc/ssl/ec.key
            smtpd_tls_CAfile = /etc/ssl/ca.pem
            smtpd_tls_dh1024_param_file = auto
            """)
        #expect(TLSServerSettings.credentialFiles(legacy)
            == ["/etc/ssl/cert.pem", "/etc/ssl/key.pem", "/etc/ssl/ec.pem", "/etc/ssl/ec.key", "/etc/ssl/ca.pem"])
        let chains = serviceConfiguration("""
            smtpd_tls_chain_files = /etc/ssl/rsa.pem, /etc/ssl/ecdsa.pem
            smtpd_tls_cert_file = /etc/ssl/cert.pem
            smtpd_tls_dh1024_param_file = /etc/ssl/dh.pem
            """)
        #expect(TLSServerSettings.credentialFiles(chains) == ["/etc/ssl/rsa.pem", "/etc/ssl/ecdsa.pem", "/etc/ssl/dh.pem"])
        #expect(TLSServerSettings.credentialFiles(serviceConfiguration("smtpd_tls_cert_file = none")).isEmpty)
    }

    @Test("an expired or not yet valid certificate loads, but is refused for a reload, naming the file")
    func currentness() throws {
        let directory = try TemporaryDirectory()
        let root = directory.path
        func settings(notBefore: Date, days: Int) throws -> TLSServerSettings {
            let made = try SelfSignedCertificate.generate(commonName: "mx.example.test", validityDays: days, notBefore: notBefore)
            try SelfSignedCertificate.write(
                certificatePEM: made.certificatePEM, toCertificateFile: "\(root)/cert.pem",
                privateKeyPEM: made.privateKeyPEM, toKeyFile: "\(root)/key.pem")
            return try serverSettings("""
                smtpd_tls_security_level = may
                smtpd_tls_cert_file = \(root)/cert.pem
                smtpd_tls_key_file = \(root)/key.pem
                """)
        }
        let now = Date()
        try settings(notBefore: now.addingTimeInterval(-86_400), days: 30).checkCertificatesCurrent(at: now)
        let expired = try settings(notBefore: now.addingTimeInterval(-10 * 86_400), days: 2)
        let expiredError = #expect(throws: TLSConfigurationError.self) { try expired.checkCertificatesCurrent(at: now) }
        #expect(expiredError?.path == "\(root)/cert.pem")
        #expect(expiredError?.reason.contains("expired on") == true, "\(expiredError?.reason ?? "")")
        let future = try settings(notBefore: now.addingTimeInterval(5 * 86_400), days: 30)
        let futureError = #expect(throws: TLSConfigurationError.self) { try future.checkCertificatesCurrent(at: now) }
        #expect(futureError?.reason.contains("is not valid before") == true)
        #expect(expired.certificateSummary.hasPrefix("subject=CN") && expired.certificateSummary.contains("expires "))
    }
}
