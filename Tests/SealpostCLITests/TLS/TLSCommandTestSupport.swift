import Foundation
import SealpostTestSupport
import Testing

/// A configuration directory for `sealpost tls` runs, with openssl to check what they write.
final class TLSConfigDirectory {
    let fixtures: OpenSSLFixtures
    var path: String { fixtures.directory }
    static let hostname = "mx.example.test"

    init(mainCf extra: String = "") throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "install the openssl package")
        fixtures = try OpenSSLFixtures()
        try fixtures.write("master.cf", "smtp inet n - n - - smtpd\n", mode: 0o644)
        try fixtures.write("main.cf", "# test\nmyhostname = \(Self.hostname)\nqueue_directory = \(path)/queue\n" + extra, mode: 0o644)
    }

    func tls(_ arguments: String...) throws -> SealpostBinary.Result {
        try SealpostBinary.run(["tls", "-c", path] + arguments)
    }

    func mainCf() throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path + "/main.cf")) }

    /// main.cf's `name = value` entries.
    func mainCfValue(_ name: String) throws -> String? {
        let text = String(decoding: try mainCf(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + " =") {
            return String(line.dropFirst(name.count + 2)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The files in the directory whose names match `pattern` (a regular expression).
    func files(matching pattern: String) throws -> [String] {
        let expression = try NSRegularExpression(pattern: "^(?:" + pattern + ")$")
        return try FileManager.default.contentsOfDirectory(atPath: path).filter {
            expression.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil
        }.sorted()
    }

    /// The single file matching `pattern`, for the file name postfix-tls gives (`key-YYYYMMDD-HHMMSS.pem`).
    func onlyFile(_ pattern: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let found = try files(matching: pattern)
        try #require(found.count == 1, "files matching \(pattern): \(found)", sourceLocation: sourceLocation)
        return found[0]
    }

    /// openssl's "3 1 1" data for a certificate file: SHA-256 of the DER SPKI.
    func openSSLSPKIDigest(certificate: String) throws -> String {
        let publicKey = try fixtures.openssl("x509", "-in", certificate, "-noout", "-pubkey")
        try fixtures.write("spki.pem", publicKey)
        try fixtures.openssl("pkey", "-pubin", "-in", "spki.pem", "-outform", "DER", "-out", "spki.der")
        return String(try fixtures.openssl("dgst", "-sha256", "-r", "spki.der").split(separator: " ")[0])
    }

    /// openssl's "3 1 1" data for a private key file.
    func openSSLKeyDigest(key: String) throws -> String {
        try fixtures.openssl("pkey", "-in", key, "-pubout", "-outform", "DER", "-out", "spki.der")
        return String(try fixtures.openssl("dgst", "-sha256", "-r", "spki.der").split(separator: " ")[0])
    }

    /// Checks with openssl that a key and certificate pair is what postfix-tls writes.
    func expectServerPair(
        key: String, certificate: String, names: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(try fixtures.mode(key) == 0o600, sourceLocation: sourceLocation)
        #expect(try fixtures.mode(certificate) == 0o644, sourceLocation: sourceLocation)
        #expect(try fixtures.read(key).hasPrefix("-----BEGIN PRIVATE KEY-----\n"), "unencrypted PKCS#8", sourceLocation: sourceLocation)
        #expect(try fixtures.openssl("verify", "-CAfile", certificate, certificate) == "\(certificate): OK\n", sourceLocation: sourceLocation)
        let certificateKey = try fixtures.openssl("x509", "-in", certificate, "-noout", "-pubkey")
        #expect(certificateKey == (try fixtures.openssl("pkey", "-in", key, "-pubout")), "key matches certificate", sourceLocation: sourceLocation)
        let subject = try fixtures.openssl("x509", "-in", certificate, "-noout", "-subject", "-nameopt", "RFC2253")
        #expect(subject == "subject=CN=\(names[0])\n", sourceLocation: sourceLocation)
        let alternativeNames = try fixtures.openssl("x509", "-in", certificate, "-noout", "-ext", "subjectAltName")
        #expect(alternativeNames.contains(names.map { "DNS:\($0)" }.joined(separator: ", ") + "\n"), "\(alternativeNames)", sourceLocation: sourceLocation)
        let usage = try fixtures.openssl("x509", "-in", certificate, "-noout", "-ext", "extendedKeyUsage")
        #expect(usage.contains("TLS Web Server Authentication, TLS Web Client Authentication"), sourceLocation: sourceLocation)
    }
}
