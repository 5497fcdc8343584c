internal import CSealpostShims

/// The system's libcrypt (libxcrypt on Debian): hashing with a stored hash's own method, cost and
/// salt, and settings for new hashes.
enum Crypt {
    /// What libcrypt says about a setting or hash (crypt_checksalt).
    enum SaltCheck: Equatable {
        case ok
        /// Malformed, or a method this libcrypt lacks.
        case invalid
        case methodDisabled
        /// A method libcrypt considers obsolete (DES, MD5).
        case legacy
        case tooCheap
    }

    /// `crypt(password, setting)`: the hash of `password` with the method, cost and salt of
    /// `setting` (a stored hash is its own setting), or nil when libcrypt cannot use the setting.
    static func hash(_ password: [UInt8], setting: String) -> String? {
        var phrase = password.map { CChar(bitPattern: $0) }
        phrase.append(0)
        defer { sealpost_explicit_bzero(&phrase, phrase.count) }
        var output = [CChar](repeating: 0, count: sealpost_crypt_output_size())
        defer { sealpost_explicit_bzero(&output, output.count) }
        let status = sealpost_crypt(phrase, setting, &output, output.count)
        guard status == 0 else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A setting for a new hash with `prefix` (`$6$`, `$y$`, …) at the method's default cost, salted
    /// with 16 bytes from getrandom(2).
    static func newSetting(prefix: String) -> String? {
        var random = [UInt8](repeating: 0, count: 16)
        guard sealpost_getrandom(&random, random.count) == 0 else { return nil }
        defer { sealpost_explicit_bzero(&random, random.count) }
        var output = [CChar](repeating: 0, count: sealpost_crypt_output_size())
        guard sealpost_crypt_gensalt(prefix, 0, random, Int32(random.count), &output, output.count) == 0 else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The prefix libcrypt recommends for new hashes (crypt_preferred_method), e.g. `$y$`.
    static var preferredPrefix: String? {
        sealpost_crypt_preferred_method().map { String(cString: $0) }
    }

    static func check(_ setting: String) -> SaltCheck {
        switch sealpost_crypt_checksalt(setting) {
        case sealpost_crypt_salt_ok(): .ok
        case sealpost_crypt_salt_method_disabled(): .methodDisabled
        case sealpost_crypt_salt_method_legacy(): .legacy
        case sealpost_crypt_salt_too_cheap(): .tooCheap
        default: .invalid
        }
    }
}
