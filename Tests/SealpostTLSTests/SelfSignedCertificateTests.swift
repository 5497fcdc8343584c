import Foundation
import Testing

@testable import SealpostTLS

@Suite("Self-signed certificates")
struct SelfSignedCertificateTests {
    @Test("generated certificates verify with openssl and show their SANs", arguments: [
        KeySpec.ecdsa(curve: "prime256v1"), .rsa(bits: 2048), .ecdsa(curve: "P-384"),
    ])
    func generateAndVerify(spec: KeySpec) throws {
        let fixtures = try Fixtures()
        let generated = try SelfSignedCertificate.generate(
            key: spec, commonName: "mail.example.org",
            subjectAlternativeNames: ["mail.example.org", "*.example.org", "192.0.2.7", "2001:db8::7"], validityDays: 30)
        #expect(generated.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))

        let certificateFile = fixtures.path("demo.pem")
        let keyFile = fixtures.path("private/demo.key")
        try FileManager.default.createDirectory(atPath: fixtures.path("private"), withIntermediateDirectories: false)
        let oldMask = umask(0)
        defer { umask(oldMask) }
        try SelfSignedCertificate.write(
            certificatePEM: generated.certificatePEM, toCertificateFile: certificateFile,
            privateKeyPEM: generated.privateKeyPEM, toKeyFile: keyFile)
        #expect(try fixtures.mode("private/demo.key") == 0o600)
        #expect(try fixtures.mode("demo.pem") == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixtures.path("private")) == ["demo.key"])

        #expect(try fixtures.openssl("verify", "-CAfile", "demo.pem", "demo.pem") == "demo.pem: OK\n")
        let san = try fixtures.openssl("x509", "-in", "demo.pem", "-noout", "-ext", "subjectAltName")
        #expect(san.contains("DNS:mail.example.org, DNS:*.example.org, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:7"))
        let constraints = try fixtures.openssl("x509", "-in", "demo.pem", "-noout", "-ext", "basicConstraints")
        #expect(constraints.contains("critical") && constraints.contains("CA:FALSE"))
        let text = try fixtures.openssl("x509", "-in", "demo.pem", "-noout", "-text")
        #expect(text.contains("Version: 3 (0x2)"))
        #expect(text.contains("Signature Algorithm: sha256With") || text.contains("Signature Algorithm: ecdsa-with-SHA256"))
        try fixtures.openssl("pkey", "-in", "private/demo.key", "-check", "-noout")

        let details = try #require(try Certificate.loadPEMFile(certificateFile).first).details
        #expect(details.subjectCommonName == "mail.example.org")
        #expect(details.isSelfSigned && !details.isCA)
        #expect(details.serial.count == 32)
        #expect(details.subjectAlternativeNames == ["mail.example.org", "*.example.org", "192.0.2.7", "2001:db8::7"])
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: certificateFile, keyFile: keyFile, expiryWarningDays: 7)
            .isEmpty)
    }

    @Test("without SANs the common name becomes the only SAN; serials differ")
    func defaults() throws {
        let one = try SelfSignedCertificate.generate(commonName: "localhost")
        let two = try SelfSignedCertificate.generate(commonName: "localhost")
        let first = try #require(try Certificate.parsePEM(one.certificatePEM).first)
        let second = try #require(try Certificate.parsePEM(two.certificatePEM).first)
        #expect(first.details.subjectAlternativeNames == ["localhost"])
        #expect(first.details.publicKey.algorithm == .ec(curve: "prime256v1"))
        #expect(first.details.serial != second.details.serial)
        #expect(first.details.notAfter.timeIntervalSince(first.details.notBefore) == 365 * 86_400)
        #expect(try PrivateKey.parsePEM(one.privateKeyPEM).matches(first))
        #expect(try !PrivateKey.parsePEM(two.privateKeyPEM).matches(first))
    }

    @Test("a start date in the past makes an expired certificate")
    func backdated() throws {
        let fixtures = try Fixtures()
        let start = Date(timeIntervalSince1970: 1_600_000_000)
        let generated = try SelfSignedCertificate.generate(
            commonName: "old.example", validityDays: 10, notBefore: start)
        let certificateFile = try fixtures.write("old.pem", generated.certificatePEM)
        let keyFile = try fixtures.write("old.key", generated.privateKeyPEM)
        let details = try #require(try Certificate.loadPEMFile(certificateFile).first).details
        #expect(details.notBefore == start)
        #expect(details.notAfter == start.addingTimeInterval(10 * 86_400))
        #expect(CredentialInspector.inspectServerCredentials(certificateFile: certificateFile, keyFile: keyFile)
            .errorCodes == [.certificateExpired])
        let dates = try fixtures.openssl("x509", "-in", "old.pem", "-noout", "-startdate", "-dateopt", "iso_8601")
        #expect(dates == "notBefore=2020-09-13 12:26:40Z\n")
    }

    @Test("bad arguments are refused before any key is made")
    func badArguments() throws {
        #expect(credentialError { try SelfSignedCertificate.generate(key: .rsa(bits: 1024), commonName: "x") }?.code
            == .invalidArgument)
        #expect(credentialError { try SelfSignedCertificate.generate(key: .ecdsa(curve: "nonsense"), commonName: "x") }?.code
            == .invalidArgument)
        #expect(credentialError { try SelfSignedCertificate.generate(commonName: "x", subjectAlternativeNames: ["a,b"]) }?.code
            == .invalidArgument)
        #expect(credentialError { try SelfSignedCertificate.generate(commonName: "", subjectAlternativeNames: ["a"]) }?.code
            == .invalidArgument)
        #expect(credentialError { try SelfSignedCertificate.generate(commonName: "x", validityDays: 0) }?.code
            == .invalidArgument)
    }

    @Test("writing into a missing directory fails with writeFailed naming the file")
    func writeFailure() throws {
        let fixtures = try Fixtures()
        let target = fixtures.path("no/such/dir/key.pem")
        let error = credentialError { try CredentialFileWriter.writeAtomically("x", to: target, mode: 0o600) }
        #expect(error?.code == .writeFailed)
        #expect(error?.reason.contains(target) == true)
    }
}
