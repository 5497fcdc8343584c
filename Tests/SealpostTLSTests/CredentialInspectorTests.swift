import Foundation
import Testing

@testable import SealpostTLS

@Suite("Checking a certificate and key pair")
struct CredentialInspectorTests {
    @Test("a good CA-signed pair with a private key file has no findings")
    func goodPair() throws {
        let fixtures = try Fixtures()
        let hierarchy = try fixtures.hierarchy(leafKey: .rsa)
        let findings = CredentialInspector.inspectServerCredentials(
            certificateFile: hierarchy.fullchain, keyFile: hierarchy.leafKey)
        #expect(findings.isEmpty, "\(findings)")
        let certified = try CertifiedKey.load(certificateFile: hierarchy.fullchain, keyFile: hierarchy.leafKey)
        #expect(certified.chain.count == 2)
        #expect(certified.leaf.details.publicKey.algorithm == .rsa)
    }

    @Test("a chain in the wrong order is an error naming the file and position")
    func wrongOrder() throws {
        let fixtures = try Fixtures()
        let hierarchy = try fixtures.hierarchy()
        let reversed = try fixtures.concatenate(["intermediate.pem", "leaf.pem"], into: "reversed.pem")
        let findings = CredentialInspector.inspectServerCredentials(certificateFile: reversed, keyFile: hierarchy.leafKey)
        // The key belongs to the leaf, which now comes second.
        #expect(findings.errorCodes.sorted { $0.rawValue < $1.rawValue } == [.chainOrder, .keyMismatch])
        let order = try #require(findings.first { $0.code == .chainOrder })
        #expect(order.message.contains(reversed))
        #expect(order.message.contains("certificate 1 (CN=Sealpost Test Intermediate) is not issued by certificate 2"))
        #expect(order.message.contains("leaf certificate first"))

        let withForeignCA = try fixtures.concatenate(["leaf.pem", "root.pem"], into: "skipped.pem")
        let skipped = CredentialInspector.inspectServerCredentials(certificateFile: withForeignCA, keyFile: hierarchy.leafKey)
        #expect(skipped.errorCodes == [.chainOrder])
    }

    @Test("a key that belongs to another certificate is an error naming both files")
    func mismatch() throws {
        let fixtures = try Fixtures()
        try fixtures.ecKey("a.key")
        try fixtures.ecKey("b.key")
        let certificate = try fixtures.selfSigned("a.pem", key: "a.key")
        let findings = CredentialInspector.inspectServerCredentials(certificateFile: certificate, keyFile: fixtures.path("b.key"))
        #expect(findings.codes == [.keyMismatch])
        #expect(findings[0].severity == .error)
        #expect(findings[0].message.contains(certificate) && findings[0].message.contains(fixtures.path("b.key")))
        let error = credentialError { try CertifiedKey.load(certificateFile: certificate, keyFile: fixtures.path("b.key")) }
        #expect(error?.code == .keyMismatch)
    }

    @Test("missing, unreadable and encrypted files are errors; both halves are reported")
    func fileErrors() throws {
        let fixtures = try Fixtures()
        let findings = CredentialInspector.inspectServerCredentials(
            certificateFile: fixtures.path("none.pem"), keyFile: fixtures.path("none.key"))
        #expect(findings.errorCodes == [.fileMissing, .fileMissing])
        #expect(findings[0].message.contains(fixtures.path("none.pem")))
        #expect(findings[1].message.contains(fixtures.path("none.key")))

        try fixtures.openssl(
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:x",
            "-out", "encrypted.key")
        try fixtures.openssl(
            "req", "-x509", "-new", "-key", "encrypted.key", "-passin", "pass:x", "-subj", "/CN=x", "-days", "5", "-out", "x.pem")
        let encrypted = CredentialInspector.inspectServerCredentials(
            certificateFile: fixtures.path("x.pem"), keyFile: fixtures.path("encrypted.key"), expiryWarningDays: 30)
        #expect(encrypted.errorCodes == [.encryptedPrivateKey])
        #expect(encrypted.warningCodes == [.certificateExpiringSoon], "the certificate is checked even though the key is not usable")
        let message = try #require(encrypted.first { $0.code == .encryptedPrivateKey }).message
        #expect(message.contains("is encrypted; Sealpost needs an unencrypted key"))
    }

    @Test("expired and not yet valid certificates (openssl ca -startdate/-enddate) are errors")
    func validityErrors() throws {
        let fixtures = try Fixtures()
        let expired = try fixtures.datedCertificate("expired.pem", start: "20200101000000Z", end: "20200201000000Z")
        let expiredFindings = CredentialInspector.inspectServerCredentials(
            certificateFile: expired, keyFile: fixtures.path("expired.pem.key"))
        #expect(expiredFindings.errorCodes == [.certificateExpired])
        #expect(expiredFindings[0].message.contains("expired on 2020-02-01 00:00:00 UTC"))
        #expect(expiredFindings[0].message.contains(expired))

        let fresh = try Fixtures()
        let future = try fresh.datedCertificate("future.pem", start: "20990101000000Z", end: "20991231000000Z")
        let futureFindings = CredentialInspector.inspectServerCredentials(
            certificateFile: future, keyFile: fresh.path("future.pem.key"))
        #expect(futureFindings.errorCodes == [.certificateNotYetValid])
        #expect(futureFindings[0].message.contains("not valid before 2099-01-01 00:00:00 UTC"))
    }

    @Test("a certificate that expires within the window is a warning, with an injectable now")
    func expiringSoon() throws {
        let fixtures = try Fixtures()
        try fixtures.ecKey("ec.key")
        let certificate = try fixtures.selfSigned("ec.pem", key: "ec.key", days: 90)
        let key = fixtures.path("ec.key")
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: certificate, keyFile: key).isEmpty)

        let later = Date().addingTimeInterval(80 * 86_400)
        let soon = CredentialInspector.inspectServerCredentials(certificateFile: certificate, keyFile: key, now: later)
        #expect(soon.map(\.severity) == [.warning])
        #expect(soon.codes == [.certificateExpiringSoon])
        #expect(soon[0].message.contains("expires in 9 days") || soon[0].message.contains("expires in 10 days"))

        let muchLater = Date().addingTimeInterval(91 * 86_400)
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: certificate, keyFile: key, now: muchLater)
            .errorCodes == [.certificateExpired])
        #expect(CredentialInspector.inspectServerCredentials(
            certificateFile: certificate, keyFile: key, now: later, expiryWarningDays: 5).isEmpty)
    }

    @Test("a key file readable by group or others is a warning with its mode")
    func keyPermissions() throws {
        let fixtures = try Fixtures()
        try fixtures.ecKey("ec.key")
        let certificate = try fixtures.selfSigned("ec.pem", key: "ec.key")
        let key = fixtures.path("ec.key")
        chmod(key, 0o644)
        let findings = CredentialInspector.inspectServerCredentials(certificateFile: certificate, keyFile: key)
        #expect(findings.warningCodes == [.keyFilePermissions])
        #expect(findings[0].message.contains("mode 0644"))
        #expect(findings[0].message.contains(key))
        chmod(key, 0o640)
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: certificate, keyFile: key)
            .first?.message.contains("mode 0640") == true)
        chmod(key, 0o400)
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: certificate, keyFile: key).isEmpty)
    }

    @Test("certificate file equal to key file: the key may come anywhere, as Postfix reads it")
    func combinedFile() throws {
        let fixtures = try Fixtures()
        let hierarchy = try fixtures.hierarchy()
        let keyLast = try fixtures.concatenate(["leaf.pem", "intermediate.pem", "leaf.key"], into: "key-last.pem")
        let certified = try CertifiedKey.load(certificateFile: keyLast, keyFile: keyLast)
        #expect(certified.chain.map(\.details.subjectCommonName) == ["mail.example.com", "Sealpost Test Intermediate"])
        #expect(certified.keyObjectNumber == 3)
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: keyLast, keyFile: keyLast).isEmpty)

        let keyFirst = try fixtures.concatenate(["leaf.key", "leaf.pem", "intermediate.pem"], into: "key-first.pem")
        #expect(try CertifiedKey.load(certificateFile: keyFirst, keyFile: keyFirst).chain.count == 2)

        let noKey = credentialError { try CertifiedKey.load(certificateFile: hierarchy.fullchain, keyFile: hierarchy.fullchain) }
        #expect(noKey?.code == .noPrivateKey)
        #expect(noKey?.reason.contains(hierarchy.fullchain) == true)

        let twoKeys = try fixtures.concatenate(["leaf.key", "leaf.pem", "root.key", "intermediate.pem"], into: "two-keys.pem")
        let twoKeyFindings = CredentialInspector.inspectServerCredentials(certificateFile: twoKeys, keyFile: twoKeys)
        #expect(twoKeyFindings.warningCodes == [.ignoredPEMObject])
        #expect(twoKeyFindings[0].message.contains("ignoring a second private key (PEM object number 3)"))

        let wrongKey = try fixtures.concatenate(["leaf.pem", "intermediate.key"], into: "wrong-key.pem")
        #expect(credentialError { try CertifiedKey.load(certificateFile: wrongKey, keyFile: wrongKey) }?.code == .keyMismatch)
        chmod(keyLast, 0o644)
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: keyLast, keyFile: keyLast).warningCodes
            == [.keyFilePermissions])
    }
}
