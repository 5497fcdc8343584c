import Foundation
import Testing

@testable import SealpostTLS

@Suite("Loading certificates")
struct CertificateLoadingTests {
    @Test("an RSA self-signed certificate reads as openssl x509 prints it")
    func rsaSelfSignedMatchesOpenSSL() throws {
        let fixtures = try Fixtures()
        try fixtures.rsaKey("rsa.key")
        let file = try fixtures.selfSigned("rsa.pem", key: "rsa.key")

        let certificates = try Certificate.loadPEMFile(file)
        try #require(certificates.count == 1)
        let details = certificates[0].details

        let subject = try fixtures.openssl("x509", "-in", "rsa.pem", "-noout", "-subject", "-nameopt", "RFC2253")
        #expect("subject=\(details.subject)\n" == subject)
        #expect(details.subject == "O=Example Mail,CN=mail.example.com")
        #expect(details.subjectCommonName == "mail.example.com")
        #expect(details.issuer == details.subject)
        #expect(details.issuerCommonName == "mail.example.com")
        #expect(details.subjectAlternativeNames == ["mail.example.com", "mx.example.com", "192.0.2.25", "2001:db8::25"])

        let serial = try fixtures.openssl("x509", "-in", "rsa.pem", "-noout", "-serial")
        #expect("serial=\(details.serial)\n" == serial)

        let fingerprint = try fixtures.openssl("x509", "-in", "rsa.pem", "-noout", "-fingerprint", "-sha256")
        #expect(fingerprint.hasSuffix("=\(details.sha256Fingerprint)\n"))
        #expect(details.sha256Fingerprint.count == 32 * 3 - 1)

        #expect(details.subjectPublicKeyInfoSHA256 == (try spkiSHA256(fixtures, certificate: "rsa.pem")))

        let dates = try fixtures.openssl("x509", "-in", "rsa.pem", "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601")
        #expect(dates == "notBefore=\(iso(details.notBefore))\nnotAfter=\(iso(details.notAfter))\n")
        #expect(details.notAfter.timeIntervalSince(details.notBefore) == 90 * 86_400)

        #expect(details.publicKey == KeyType(algorithm: .rsa, bits: 2048))
        #expect(details.publicKey.description == "RSA 2048")
        // `openssl req -x509` marks its certificates CA:TRUE (v3_ca in openssl.cnf).
        #expect(details.isCA)
        #expect(details.isSelfSigned)
        #expect(details.isValid(at: Date()))
    }

    @Test("an ECDSA certificate reports its curve by both names")
    func ecdsaCurve() throws {
        let fixtures = try Fixtures()
        try fixtures.ecKey("ec.key")
        let file = try fixtures.selfSigned("ec.pem", key: "ec.key", subjectAltName: nil)
        let details = try #require(try Certificate.loadPEMFile(file).first).details
        #expect(details.publicKey.algorithm == .ec(curve: "prime256v1"))
        #expect(details.publicKey.algorithm.nistCurveName == "P-256")
        #expect(details.publicKey.bits == 256)
        #expect(details.publicKey.description == "EC P-256 (prime256v1)")
        #expect(details.subjectAlternativeNames.isEmpty)
        #expect(details.subjectPublicKeyInfoSHA256 == (try spkiSHA256(fixtures, certificate: "ec.pem")))
        let key = try PrivateKey.loadPEMFile(fixtures.path("ec.key"))
        #expect(key.details.subjectPublicKeyInfoSHA256 == details.subjectPublicKeyInfoSHA256)
    }

    @Test("a CA-signed chain loads leaf first, and each certificate is issued by the next")
    func chainInOrder() throws {
        let fixtures = try Fixtures()
        let hierarchy = try fixtures.hierarchy()
        let chain = try Certificate.loadPEMFile(hierarchy.fullchain)
        try #require(chain.count == 2)
        #expect(chain[0].details.subjectCommonName == "mail.example.com")
        #expect(chain[0].details.issuerCommonName == "Sealpost Test Intermediate")
        #expect(chain[0].details.serial == "0A1B2C3D")
        #expect(!chain[0].details.isCA)
        #expect(!chain[0].details.isSelfSigned)
        #expect(chain[1].details.isCA)
        #expect(!chain[1].details.isSelfSigned)
        #expect(chain[0].isIssued(by: chain[1]))
        #expect(!chain[1].isIssued(by: chain[0]))
        let root = try #require(try Certificate.loadPEMFile(hierarchy.root).first)
        #expect(root.details.isSelfSigned && root.details.isCA)
        #expect(chain[1].isIssued(by: root))
    }

    @Test("PEM and DER round trips keep the certificate")
    func roundTrip() throws {
        let fixtures = try Fixtures()
        try fixtures.ecKey("ec.key")
        let file = try fixtures.selfSigned("ec.pem", key: "ec.key")
        let original = try #require(try Certificate.loadPEMFile(file).first)
        let again = try #require(try Certificate.parsePEM(original.pemEncoded).first)
        #expect(again.details == original.details)
        #expect(try fixtures.read("ec.pem") == original.pemEncoded)
        try fixtures.openssl("x509", "-in", "ec.pem", "-outform", "DER", "-out", "ec.der")
        let der = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixtures.path("ec.der"))))
        #expect(original.derEncoded == der)
    }

    @Test("a missing file, a directory, text, DER and a key-only file fail with their codes")
    func loadFailures() throws {
        let fixtures = try Fixtures()
        let missing = fixtures.path("missing.pem")
        let error = credentialError { try Certificate.loadPEMFile(missing) }
        #expect(error?.code == .fileMissing)
        #expect(error?.reason.contains(missing) == true)

        try FileManager.default.createDirectory(atPath: fixtures.path("dir.pem"), withIntermediateDirectories: false)
        let directoryError = credentialError { try Certificate.loadPEMFile(fixtures.path("dir.pem")) }
        #expect(directoryError?.code == .fileUnreadable)
        #expect(directoryError?.reason.contains(fixtures.path("dir.pem")) == true)

        let loop = fixtures.path("loop.pem")
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: loop)
        let loopError = credentialError { try Certificate.loadPEMFile(loop) }
        #expect(loopError?.code == .fileUnreadable)
        #expect(loopError?.reason == "cannot read certificate file \(loop): Too many levels of symbolic links")

        let fifo = fixtures.path("fifo.pem")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(credentialError { try Certificate.loadPEMFile(fifo) }?.reason.contains("not a regular file") == true)

        let text = try fixtures.write("text.pem", "this is not a certificate\n")
        #expect(credentialError { try Certificate.loadPEMFile(text) }?.code == .notPEM)
        let empty = try fixtures.write("empty.pem", "")
        #expect(credentialError { try Certificate.loadPEMFile(empty) }?.code == .notPEM)

        try fixtures.ecKey("ec.key")
        try fixtures.selfSigned("ec.pem", key: "ec.key")
        try fixtures.openssl("x509", "-in", "ec.pem", "-outform", "DER", "-out", "ec.der")
        #expect(credentialError { try Certificate.loadPEMFile(fixtures.path("ec.der")) }?.code == .notPEM)

        let der = try Data(contentsOf: URL(fileURLWithPath: fixtures.path("ec.der"))) + Data([0x05, 0x00])
        let trailing = try fixtures.write(
            "trailing.pem",
            "-----BEGIN CERTIFICATE-----\n\(der.base64EncodedString(options: .lineLength64Characters))\n-----END CERTIFICATE-----\n")
        let trailingError = credentialError { try Certificate.loadPEMFile(trailing) }
        #expect(trailingError?.code == .invalidCertificate)
        #expect(trailingError?.reason.contains("excess data") == true)

        let keyOnly = credentialError { try Certificate.loadPEMFile(fixtures.path("ec.key")) }
        #expect(keyOnly?.code == .noCertificate)
        #expect(keyOnly?.reason.contains("ec.key") == true)

        let pem = try fixtures.read("ec.pem")
        let damaged = try fixtures.write("damaged.pem", pem.replacingOccurrences(of: "-----END CERTIFICATE-----", with: ""))
        #expect(credentialError { try Certificate.loadPEMFile(damaged) }?.code == .invalidPEM)
        let garbage = try fixtures.write("garbage.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        let garbageError = credentialError { try Certificate.loadPEMFile(garbage) }
        #expect(garbageError?.code == .invalidCertificate)
        #expect(garbageError?.openSSLErrors.isEmpty == false)
        #expect(OpenSSLErrorQueue.drain().isEmpty, "the error queue is drained into the error")
    }
}

/// What `openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256` prints.
func spkiSHA256(_ fixtures: Fixtures, certificate: String) throws -> String {
    try fixtures.openssl("x509", "-in", certificate, "-noout", "-pubkey", "-out", "\(certificate).pub")
    try fixtures.openssl("pkey", "-pubin", "-in", "\(certificate).pub", "-outform", "DER", "-out", "\(certificate).spki")
    let digest = try fixtures.openssl("dgst", "-sha256", "-r", "\(certificate).spki")
    return String(digest.prefix { $0 != " " })
}

/// `2026-03-01 12:00:00Z`, as `openssl x509 -dateopt iso_8601` prints dates.
func iso(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
    return formatter.string(from: date)
}
