import Foundation
import Testing

@testable import SealpostTLS

@Suite("Loading private keys")
struct PrivateKeyTests {
    @Test("PKCS#8 and traditional RSA and EC keys load with their type and size")
    func keyTypes() throws {
        let fixtures = try Fixtures()
        try fixtures.rsaKey("rsa.key", bits: 3072)
        try fixtures.ecKey("ec.key", curve: "P-384")
        try fixtures.openssl("rsa", "-in", "rsa.key", "-traditional", "-out", "rsa-traditional.key")
        try fixtures.openssl("ec", "-in", "ec.key", "-out", "ec-traditional.key")
        #expect(try fixtures.read("rsa-traditional.key").hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        #expect(try fixtures.read("ec-traditional.key").hasPrefix("-----BEGIN EC PRIVATE KEY-----"))

        for name in ["rsa.key", "rsa-traditional.key"] {
            let key = try PrivateKey.loadPEMFile(fixtures.path(name))
            #expect(key.details.keyType == KeyType(algorithm: .rsa, bits: 3072), "\(name)")
        }
        for name in ["ec.key", "ec-traditional.key"] {
            let key = try PrivateKey.loadPEMFile(fixtures.path(name))
            #expect(key.details.keyType == KeyType(algorithm: .ec(curve: "secp384r1"), bits: 384), "\(name)")
            #expect(key.details.keyType.algorithm.nistCurveName == "P-384")
        }
        try fixtures.openssl("genpkey", "-algorithm", "ED25519", "-out", "ed.key")
        #expect(try PrivateKey.loadPEMFile(fixtures.path("ed.key")).details.keyType.algorithm == .ed25519)
    }

    @Test("the key is found after certificates in the same file, and its PEM round-trips")
    func keyAfterCertificate() throws {
        let fixtures = try Fixtures()
        try fixtures.ecKey("ec.key")
        try fixtures.selfSigned("ec.pem", key: "ec.key")
        let combined = try fixtures.concatenate(["ec.pem", "ec.key"], into: "combined.pem")
        let key = try PrivateKey.loadPEMFile(combined)
        let certificate = try #require(try Certificate.loadPEMFile(combined).first)
        #expect(key.matches(certificate))
        #expect(try PrivateKey.parsePEM(key.pemEncoded).matches(certificate))
        #expect(!key.description.contains("PRIVATE"))
    }

    @Test("an encrypted PKCS#8 key is reported, never decrypted, with the command that decrypts it")
    func encryptedPKCS8() throws {
        let fixtures = try Fixtures()
        try fixtures.openssl(
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:x",
            "-out", "encrypted.key")
        let file = fixtures.path("encrypted.key")
        #expect(try fixtures.read("encrypted.key").hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        let error = credentialError { try PrivateKey.loadPEMFile(file) }
        #expect(error?.code == .encryptedPrivateKey)
        #expect(error?.reason.contains("\(file) ") == true)
        #expect(error?.reason.contains("openssl pkey -in \(file) -out \(file).plain") == true)
        #expect(try PrivateKey.isEncryptedPEMFile(file))
    }

    @Test("a traditional key with Proc-Type: 4,ENCRYPTED is reported as encrypted")
    func encryptedTraditional() throws {
        let fixtures = try Fixtures()
        try fixtures.openssl("genrsa", "-aes128", "-passout", "pass:x", "-traditional", "-out", "legacy.key", "2048")
        #expect(try fixtures.read("legacy.key").contains("Proc-Type: 4,ENCRYPTED"))
        let file = fixtures.path("legacy.key")
        #expect(credentialError { try PrivateKey.loadPEMFile(file) }?.code == .encryptedPrivateKey)
        #expect(try PrivateKey.isEncryptedPEMFile(file))
        try fixtures.ecKey("plain.key")
        #expect(try !PrivateKey.isEncryptedPEMFile(fixtures.path("plain.key")))
    }

    @Test("a certificate file, a damaged key and an OpenSSH key fail with their codes")
    func failures() throws {
        let fixtures = try Fixtures()
        try fixtures.ecKey("ec.key")
        let certificate = try fixtures.selfSigned("ec.pem", key: "ec.key")
        let noKey = credentialError { try PrivateKey.loadPEMFile(certificate) }
        #expect(noKey?.code == .noPrivateKey)
        #expect(noKey?.reason.contains(certificate) == true)

        let damaged = try fixtures.write("damaged.key", "-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n")
        let damagedError = credentialError { try PrivateKey.loadPEMFile(damaged) }
        #expect(damagedError?.code == .invalidPrivateKey)
        #expect(OpenSSLErrorQueue.drain().isEmpty)

        try fixtures.openssl("pkey", "-in", "ec.key", "-outform", "DER", "-out", "ec.der")
        let der = try Data(contentsOf: URL(fileURLWithPath: fixtures.path("ec.der"))) + Data([0x05, 0x00])
        let trailing = try fixtures.write(
            "trailing.key",
            "-----BEGIN PRIVATE KEY-----\n\(der.base64EncodedString(options: .lineLength64Characters))\n-----END PRIVATE KEY-----\n")
        let trailingError = credentialError { try PrivateKey.loadPEMFile(trailing) }
        #expect(trailingError?.code == .invalidPrivateKey)
        #expect(trailingError?.reason.contains("excess data") == true)

        let openssh = try fixtures.write(
            "id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
        #expect(credentialError { try PrivateKey.loadPEMFile(openssh) }?.code == .invalidPrivateKey)
        #expect(credentialError { try PrivateKey.loadPEMFile(fixtures.path("nope.key")) }?.code == .fileMissing)
    }

    @Test("a key matches its own certificate and no other")
    func matching() throws {
        let fixtures = try Fixtures()
        try fixtures.ecKey("a.key")
        try fixtures.ecKey("b.key")
        let certificate = try #require(try Certificate.loadPEMFile(fixtures.selfSigned("a.pem", key: "a.key")).first)
        #expect(try PrivateKey.loadPEMFile(fixtures.path("a.key")).matches(certificate))
        #expect(try !PrivateKey.loadPEMFile(fixtures.path("b.key")).matches(certificate))
    }
}
