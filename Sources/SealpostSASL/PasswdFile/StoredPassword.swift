/// A password as a passwd-file stores it, checked when the file is loaded.
public enum StoredPassword: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A crypt(3) hash: the hash string (`$6$…`) and its method.
    case crypt(hash: String, method: CryptMethod)
    /// `{PLAIN}`: the password itself. Accepted for Dovecot compatibility, with a warning.
    case plain([UInt8])

    /// Never the password or the hash.
    public var description: String {
        switch self {
        case .crypt(_, let method): "\(method.schemeName) hash"
        case .plain: "PLAIN password"
        }
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

/// The crypt(3) methods Sealpost verifies, by hash prefix.
public enum CryptMethod: String, Sendable, Hashable, CaseIterable {
    case sha512Crypt = "$6$"
    case sha256Crypt = "$5$"
    case bcrypt = "$2b$"
    case yescrypt = "$y$"

    /// Dovecot's scheme name for the method.
    public var schemeName: String {
        switch self {
        case .sha512Crypt: "SHA512-CRYPT"
        case .sha256Crypt: "SHA256-CRYPT"
        case .bcrypt: "BLF-CRYPT"
        case .yescrypt: "CRYPT (yescrypt)"
        }
    }

    // crypt(5): the checksum is the last $-separated field, in the alphabet ./0-9A-Za-z; for bcrypt
    // that field holds the 22-character salt and the 31-character checksum.
    private var checksumLength: Int {
        switch self {
        case .sha512Crypt: 86
        case .sha256Crypt, .yescrypt: 43
        case .bcrypt: 53
        }
    }

    /// Whether a hash of this method has a complete checksum (a setting alone, such as
    /// `$6$salt`, would never match any password).
    func isWellFormed(_ hash: String) -> Bool {
        guard let checksum = hash.split(separator: "$", omittingEmptySubsequences: false).last else { return false }
        return checksum.utf8.count == checksumLength
            && checksum.utf8.allSatisfy { $0 == 0x2E || $0 == 0x2F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    /// The method of a hash by its prefix; bcrypt's `$2a$`, `$2b$` and `$2y$` are all bcrypt.
    public init?(hash: String) {
        if hash.hasPrefix("$6$") {
            self = .sha512Crypt
        } else if hash.hasPrefix("$5$") {
            self = .sha256Crypt
        } else if hash.hasPrefix("$2a$") || hash.hasPrefix("$2b$") || hash.hasPrefix("$2y$") {
            self = .bcrypt
        } else if hash.hasPrefix("$y$") {
            self = .yescrypt
        } else {
            return nil
        }
    }
}

/// Reads the password field of a Dovecot passwd-file line.
enum PasswordField {
    enum Parsed: Equatable {
        case password(StoredPassword, warning: String?)
        /// An empty field: nobody can log in as this user.
        case empty
        case unsupported(String)
    }

    /// Dovecot's scheme names that are crypt(3) underneath: the hash's own prefix decides.
    private static let cryptSchemes: [String: CryptMethod?] = [
        "CRYPT": nil, "SHA512-CRYPT": .sha512Crypt, "SHA256-CRYPT": .sha256Crypt, "BLF-CRYPT": .bcrypt,
    ]
    private static let plainSchemes: Set<String> = ["PLAIN", "CLEAR", "CLEARTEXT"]
    private static let weakSchemes: Set<String> = ["MD5-CRYPT", "DES-CRYPT", "MD5", "PLAIN-MD5", "LDAP-MD5", "SHA", "SMD5"]

    static let expected =
        "expected {SHA512-CRYPT}, {SHA256-CRYPT}, {BLF-CRYPT}, {CRYPT} with a yescrypt, SHA-512, SHA-256 or bcrypt hash, "
        + "a bare $y$, $6$, $5$ or $2b$ hash, or {PLAIN}"

    // Dovecot's passwd-file: "{SCHEME}data", or data alone in the default scheme, which is CRYPT.
    static func parse(_ field: String) -> Parsed {
        guard !field.isEmpty else { return .empty }
        var scheme = "CRYPT"
        var data = Substring(field)
        if field.hasPrefix("{"), let close = field.firstIndex(of: "}") {
            scheme = field[field.index(after: field.startIndex)..<close].uppercased()
            data = field[field.index(after: close)...]
        }
        if plainSchemes.contains(scheme) {
            return .password(.plain(Array(data.utf8)), warning: "{\(scheme)} password stored in clear text")
        }
        guard let labelled = cryptSchemes[scheme] else {
            if weakSchemes.contains(scheme) {
                return .unsupported("the {\(scheme)} scheme is too weak to accept; \(expected)")
            }
            return .unsupported("unknown password scheme {\(scheme)}; \(expected)")
        }
        let hash = String(data)
        guard let method = CryptMethod(hash: hash) else {
            let shown: String
            if hash.hasPrefix("$1$") {
                shown = "an MD5-CRYPT hash ($1$), which is too weak to accept"
            } else if hash.hasPrefix("$"), let method = hash.dropFirst().split(separator: "$", omittingEmptySubsequences: false).first {
                shown = "a hash of the unsupported method $\(method)$"
            } else {
                shown = "a DES-CRYPT or malformed hash"
            }
            return .unsupported("\(shown); \(expected)")
        }
        // libcrypt calls sha256crypt "legacy"; Dovecot still writes it, so it is accepted.
        let usable: Bool
        switch Crypt.check(hash) {
        case .ok, .tooCheap, .legacy: usable = method.isWellFormed(hash)
        case .invalid, .methodDisabled: usable = false
        }
        guard usable else {
            return .unsupported("a malformed \(method.schemeName) hash, or one this system's libcrypt cannot check")
        }
        var warning: String?
        if let labelled, labelled != method {
            warning = "the scheme is {\(scheme)} but the hash is \(method.schemeName); it is checked as \(method.schemeName)"
        }
        return .password(.crypt(hash: hash, method: method), warning: warning)
    }
}
