/// A SASL mechanism name (RFC 4422, section 3.1): up to 20 characters from `A-Z 0-9 - _`.
/// Names compare case-insensitively, as Postfix and Dovecot compare them; the value keeps the
/// upper-case form.
public struct SASLMechanismName: Sendable, Hashable, CustomStringConvertible {
    /// The name in upper case, as announced in EHLO.
    public let rawValue: String

    /// A name from any source (a client's AUTH command, a back end's list), or nil when it is not a
    /// valid mechanism name.
    public init?(_ text: String) {
        let upper = text.uppercased()
        guard (1...20).contains(upper.utf8.count),
            upper.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F })
        else { return nil }
        rawValue = upper
    }

    private init(known: String) {
        rawValue = known
    }

    public var description: String { rawValue }

    public static let plain = SASLMechanismName(known: "PLAIN")
    public static let login = SASLMechanismName(known: "LOGIN")
}

/// What a mechanism exposes, in the terms of `smtpd_sasl_security_options` and of Dovecot's MECH
/// lines (plaintext, anonymous, dictionary, active, forward-secrecy, mutual-auth).
public struct SASLMechanismProperties: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Sends the password in the clear (PLAIN, LOGIN): refused by `noplaintext`.
    public static let plaintext = SASLMechanismProperties(rawValue: 1 << 0)
    /// Susceptible to active (non-dictionary) attacks: refused by `noactive`.
    public static let active = SASLMechanismProperties(rawValue: 1 << 1)
    /// Susceptible to passive dictionary attacks: refused by `nodictionary`.
    public static let dictionary = SASLMechanismProperties(rawValue: 1 << 2)
    /// Allows anonymous login: refused by `noanonymous`.
    public static let anonymous = SASLMechanismProperties(rawValue: 1 << 3)
    /// Provides forward secrecy: required by `forward_secrecy`.
    public static let forwardSecrecy = SASLMechanismProperties(rawValue: 1 << 4)
    /// Authenticates the server too: required by `mutual_auth`.
    public static let mutualAuthentication = SASLMechanismProperties(rawValue: 1 << 5)
}

/// A mechanism a back end offers, with its properties.
public struct SASLMechanismDescription: Sendable, Hashable {
    public var name: SASLMechanismName
    public var properties: SASLMechanismProperties

    public init(name: SASLMechanismName, properties: SASLMechanismProperties) {
        self.name = name
        self.properties = properties
    }
}
