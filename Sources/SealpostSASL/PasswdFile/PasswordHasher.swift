/// New password hashes for passwd-files, as `sealpost passwd add` writes them.
public enum PasswordHashMethod: String, Sendable, Hashable, CaseIterable {
    /// yescrypt (`{CRYPT}$y$…`): memory-hard, libxcrypt's recommendation and Debian 12's default
    /// for /etc/shadow. Dovecot checks it through crypt(3) on systems whose libcrypt has it.
    case yescrypt
    /// SHA-512 crypt (`{SHA512-CRYPT}$6$…`, 5000 rounds): every Dovecot and every libcrypt has it.
    case sha512Crypt = "sha512-crypt"

    var prefix: String {
        switch self {
        case .yescrypt: "$y$"
        case .sha512Crypt: "$6$"
        }
    }

    var scheme: String {
        switch self {
        case .yescrypt: "{CRYPT}"
        case .sha512Crypt: "{SHA512-CRYPT}"
        }
    }
}

public enum PasswordHasher {
    /// yescrypt when this system's libcrypt recommends it (crypt_preferred_method() is `$y$`) and
    /// considers it fine (crypt_checksalt), else SHA512-CRYPT. Following libcrypt means following
    /// the distribution's choice for its own password file, which its Dovecot can also check.
    public static var defaultMethod: PasswordHashMethod {
        guard Crypt.preferredPrefix == PasswordHashMethod.yescrypt.prefix,
            let setting = Crypt.newSetting(prefix: PasswordHashMethod.yescrypt.prefix), Crypt.check(setting) == .ok
        else { return .sha512Crypt }
        return .yescrypt
    }

    /// The passwd-file password field for `password`: scheme prefix and hash, with a fresh random salt.
    public static func passwordField(for password: [UInt8], method: PasswordHashMethod) throws(PasswordHashError) -> String {
        guard !password.isEmpty else { throw PasswordHashError("the password is empty") }
        guard !password.contains(0) else { throw PasswordHashError("the password contains a NUL character") }
        guard let setting = Crypt.newSetting(prefix: method.prefix) else {
            throw PasswordHashError("this system's libcrypt cannot make \(method.rawValue) hashes")
        }
        guard let hash = Crypt.hash(password, setting: setting), hash.hasPrefix(method.prefix),
            Crypt.hash(password, setting: hash) == hash
        else {
            throw PasswordHashError("hashing with \(method.rawValue) failed")
        }
        return method.scheme + hash
    }
}

public struct PasswordHashError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
