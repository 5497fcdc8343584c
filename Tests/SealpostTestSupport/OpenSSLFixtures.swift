import Foundation

/// A temporary directory for one test, with helpers that make keys and certificates with the real
/// `openssl` command, the independent peer these tests compare Sealpost against.
public final class OpenSSLFixtures {
    private let temporary: TemporaryDirectory
    /// The fixture directory, removed with the fixtures.
    public var directory: String { temporary.path }

    public init() throws {
        temporary = try TemporaryDirectory()
    }

    /// The absolute path of `name` in the fixture directory.
    public func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// Writes text to a fixture file and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        try text.write(toFile: path(name), atomically: false, encoding: .utf8)
        chmod(path(name), mode_t(mode))
        return path(name)
    }

    /// The text of a fixture file.
    public func read(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// Concatenates fixture files into a new one (as `cat a b > c`).
    @discardableResult
    public func concatenate(_ names: [String], into name: String) throws -> String {
        try write(name, names.map { try read($0) }.joined())
    }

    /// Runs `openssl` in the fixture directory; throws with its stderr when it fails.
    @discardableResult
    public func openssl(_ arguments: String...) throws -> String {
        try run(arguments)
    }

    @discardableResult
    public func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: outputData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FixtureError("openssl \(arguments.joined(separator: " ")) failed: \(String(decoding: errorData, as: UTF8.self))")
        }
        return text
    }

    // MARK: Keys

    @discardableResult
    public func rsaKey(_ name: String, bits: Int = 2048) throws -> String {
        try openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\(bits)", "-out", name)
        return path(name)
    }

    @discardableResult
    public func ecKey(_ name: String, curve: String = "P-256") throws -> String {
        try openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:\(curve)", "-out", name)
        return path(name)
    }

    // MARK: Certificates

    /// A self-signed certificate for `keyName` made by `openssl req -x509`.
    @discardableResult
    public func selfSigned(
        _ name: String, key keyName: String, subject: String = "/CN=mail.example.com/O=Example Mail",
        subjectAltName: String? = "DNS:mail.example.com,DNS:mx.example.com,IP:192.0.2.25,IP:2001:db8::25",
        days: Int = 90
    ) throws -> String {
        var arguments = ["req", "-x509", "-new", "-key", keyName, "-subj", subject, "-days", "\(days)", "-out", name]
        if let subjectAltName { arguments += ["-addext", "subjectAltName=\(subjectAltName)"] }
        try run(arguments)
        return path(name)
    }

    /// A root CA, an intermediate CA and a leaf with their keys: `root.pem`, `intermediate.pem`, `leaf.pem`
    /// (and `.key`), and `fullchain.pem` (leaf, intermediate) in the right order.
    public struct Hierarchy {
        public let root: String, rootKey: String
        public let intermediate: String, intermediateKey: String
        public let leaf: String, leafKey: String
        public let fullchain: String
    }

    public func hierarchy(leafKey: KeyKind = .ec, leafName: String = "leaf") throws -> Hierarchy {
        try ecKey("root.key")
        try openssl(
            "req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=Sealpost Test Root", "-days", "3650",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", "root.pem")
        try ecKey("intermediate.key")
        try write("ca.ext", """
            [ca]
            basicConstraints = critical,CA:TRUE,pathlen:0
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            [leaf]
            basicConstraints = critical,CA:FALSE
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:mail.example.com
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid

            """)
        try openssl("req", "-new", "-key", "intermediate.key", "-subj", "/CN=Sealpost Test Intermediate", "-out", "intermediate.csr")
        try openssl(
            "x509", "-req", "-in", "intermediate.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "1001",
            "-days", "1000", "-extfile", "ca.ext", "-extensions", "ca", "-out", "intermediate.pem")
        let keyFile = "\(leafName).key"
        switch leafKey {
        case .ec: try ecKey(keyFile)
        case .rsa: try rsaKey(keyFile)
        }
        try openssl("req", "-new", "-key", keyFile, "-subj", "/CN=mail.example.com", "-out", "\(leafName).csr")
        try openssl(
            "x509", "-req", "-in", "\(leafName).csr", "-CA", "intermediate.pem", "-CAkey", "intermediate.key",
            "-set_serial", "0x0A1B2C3D", "-days", "200", "-extfile", "ca.ext", "-extensions", "leaf", "-out", "\(leafName).pem")
        try concatenate(["\(leafName).pem", "intermediate.pem"], into: "\(leafName)-fullchain.pem")
        return Hierarchy(
            root: path("root.pem"), rootKey: path("root.key"),
            intermediate: path("intermediate.pem"), intermediateKey: path("intermediate.key"),
            leaf: path("\(leafName).pem"), leafKey: path(keyFile), fullchain: path("\(leafName)-fullchain.pem"))
    }

    public enum KeyKind { case ec, rsa }

    /// A leaf certificate signed by `root.pem` with explicit start and end dates (`openssl ca`), for
    /// expired and not-yet-valid certificates.
    @discardableResult
    public func datedCertificate(_ name: String, start: String, end: String) throws -> String {
        try ecKey("root.key")
        try openssl(
            "req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=Sealpost Dated Root", "-days", "3650", "-out", "root.pem")
        try ecKey("\(name).key")
        try openssl("req", "-new", "-key", "\(name).key", "-subj", "/CN=dated.example.com", "-out", "\(name).csr")
        try write("index.txt", "")
        try write("serial", "1000\n")
        try write("ca.cnf", """
            [ca]
            default_ca = dated
            [dated]
            database = index.txt
            new_certs_dir = .
            serial = serial
            default_md = sha256
            policy = anything
            [anything]
            commonName = supplied

            """)
        try openssl(
            "ca", "-batch", "-config", "ca.cnf", "-cert", "root.pem", "-keyfile", "root.key", "-in", "\(name).csr",
            "-startdate", start, "-enddate", end, "-notext", "-out", name)
        return path(name)
    }

    /// The mode bits of a file.
    public func mode(_ name: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path(name))
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

