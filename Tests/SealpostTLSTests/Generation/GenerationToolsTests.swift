import Foundation
import Testing

@testable import SealpostTLS

/// CSRs, certificates for kept keys, TLSA digests and DH parameters, each checked by the real openssl.
@Suite("Key and certificate tools")
struct GenerationToolsTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "install the openssl package")
    }

    /// openssl's own "3 1 1" data: SHA-256 of the DER SubjectPublicKeyInfo of a key or certificate file.
    static func openSSLSPKIDigest(_ fixtures: Fixtures, certificate: String) throws -> String {
        try fixtures.openssl("x509", "-in", certificate, "-noout", "-pubkey").write(toFile: fixtures.path("pub.pem"), atomically: true, encoding: .utf8)
        try fixtures.openssl("pkey", "-pubin", "-in", "pub.pem", "-outform", "DER", "-out", "pub.der")
        let line = try fixtures.openssl("dgst", "-sha256", "-r", "pub.der")
        return String(line.split(separator: " ")[0])
    }

    @Test("a CSR verifies, has an empty subject and requests the names", arguments: [KeySpec.rsa(bits: 2048), .ecdsa(curve: "secp256r1")])
    func signingRequest(spec: KeySpec) throws {
        let fixtures = try Fixtures()
        let key = try PrivateKey.generate(spec)
        let pem = try CertificateSigningRequest.generate(key: key, names: ["mx.example.test", "mail.example.test", "192.0.2.9"])
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE REQUEST-----\n"))
        try fixtures.write("request.pem", pem)
        try fixtures.openssl("req", "-in", "request.pem", "-verify", "-noout")
        let text = try fixtures.openssl("req", "-in", "request.pem", "-noout", "-text")
        #expect(text.contains("DNS:mx.example.test, DNS:mail.example.test, IP Address:192.0.2.9"))
        #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
        #expect(text.contains("Subject Key Identifier"))
        let subject = try fixtures.openssl("req", "-in", "request.pem", "-noout", "-subject")
        #expect(subject.trimmingCharacters(in: .whitespacesAndNewlines) == "subject=")

        try fixtures.write("key.pem", key.pemEncoded)
        let requestKey = try fixtures.openssl("req", "-in", "request.pem", "-noout", "-pubkey")
        let ownKey = try fixtures.openssl("pkey", "-in", "key.pem", "-pubout")
        #expect(requestKey == ownKey)
    }

    @Test func aCSRRefusesBadNames() throws {
        let key = try PrivateKey.generate(.ecdsa(curve: "prime256v1"))
        #expect(credentialError { try CertificateSigningRequest.generate(key: key, names: []) }?.code == .invalidArgument)
        #expect(credentialError { try CertificateSigningRequest.generate(key: key, names: ["bad name,DNS:evil"]) }?.code == .invalidArgument)
    }

    @Test func aCertificateForAKeptKeyMatchesIt() throws {
        let fixtures = try Fixtures()
        let key = try PrivateKey.generate(.rsa(bits: 2048))
        let pem = try SelfSignedCertificate.certificatePEM(
            for: key, commonName: "mx.example.test", subjectAlternativeNames: ["mx.example.test", "smtp.example.test"],
            validityDays: 36_525)
        try fixtures.write("cert.pem", pem)
        try fixtures.write("key.pem", key.pemEncoded)
        #expect(try fixtures.openssl("verify", "-CAfile", "cert.pem", "cert.pem") == "cert.pem: OK\n")
        #expect(try fixtures.openssl("x509", "-in", "cert.pem", "-noout", "-pubkey") == (try fixtures.openssl("pkey", "-in", "key.pem", "-pubout")))
        let certificate = try #require(try Certificate.loadPEMFile(fixtures.path("cert.pem")).first)
        #expect(certificate.details.subjectCommonName == "mx.example.test")
        #expect(certificate.details.notAfter.timeIntervalSinceNow > 99 * 365 * 86_400)
        #expect(key.matches(certificate))
    }

    @Test("the TLSA record carries openssl's SPKI digest", arguments: [KeySpec.rsa(bits: 2048), .ecdsa(curve: "P-384")])
    func tlsaRecord(spec: KeySpec) throws {
        let fixtures = try Fixtures()
        let generated = try SelfSignedCertificate.generate(key: spec, commonName: "mx.example.test")
        try fixtures.write("cert.pem", generated.certificatePEM)
        let key = try PrivateKey.parsePEM(generated.privateKeyPEM)
        let digest = try Self.openSSLSPKIDigest(fixtures, certificate: "cert.pem")
        let record = TLSARecord(daneEEFor: key)
        #expect(record.zoneLine(hostname: "mx.example.test") == "_25._tcp.mx.example.test. IN TLSA 3 1 1 \(digest)")
        #expect(record.zoneLine(hostname: "mx.example.test.", port: 465) == "_465._tcp.mx.example.test. IN TLSA 3 1 1 \(digest)")
        #expect(record == TLSARecord("3 1 1 \(digest)"))
    }

    @Test func dhParametersPassOpenSSLsCheck() throws {
        let fixtures = try Fixtures()
        let pem = try DHParameters.generatePEM(bits: 1024)
        #expect(pem.hasPrefix("-----BEGIN DH PARAMETERS-----\n"))
        try fixtures.write("dh.pem", pem)
        let checked = try fixtures.openssl("pkeyparam", "-in", "dh.pem", "-check", "-noout")
        #expect(checked == "Parameters are valid\n")
        let loaded = try DHParameters.loadPEMFile(fixtures.path("dh.pem"))
        #expect(loaded.details.primeBits == 1024)
        #expect(!loaded.details.isX942)
        #expect(credentialError { try DHParameters.generatePEM(bits: 100) }?.code == .invalidArgument)
    }
}
