import SealpostConfig

/// `smtpd_sasl_security_options` / `smtpd_sasl_tls_security_options`: the mechanism properties
/// a session requires, which decide the mechanisms offered before and after TLS.
///
/// The names are those of Postfix's Dovecot back end (xsasl_dovecot_server.c): `noplaintext`,
/// `noactive`, `nodictionary`, `noanonymous` refuse mechanisms with that property;
/// `forward_secrecy` and `mutual_auth` keep only mechanisms that have it.
public struct SASLSecurityOptions: Sendable, Hashable {
    /// Properties a mechanism must not have.
    public var refused: SASLMechanismProperties
    /// Properties a mechanism must have.
    public var required: SASLMechanismProperties

    public init(refused: SASLMechanismProperties = [], required: SASLMechanismProperties = []) {
        self.refused = refused
        self.required = required
    }

    /// Postfix's default, `noanonymous`.
    public static let noAnonymous = SASLSecurityOptions(refused: [.anonymous])

    static let names: [(name: String, refused: SASLMechanismProperties, required: SASLMechanismProperties)] = [
        ("noplaintext", [.plaintext], []),
        ("noactive", [.active], []),
        ("nodictionary", [.dictionary], []),
        ("noanonymous", [.anonymous], []),
        ("forward_secrecy", [], [.forwardSecrecy]),
        ("mutual_auth", [], [.mutualAuthentication]),
    ]

    /// Parses the words of the parameter (already split on commas and white space), in any case.
    /// An unknown word is an error, as Postfix's name_mask with NAME_MASK_FATAL makes it.
    public init(parsing words: [String], parameter: String) throws(SASLConfigurationError) {
        var options = SASLSecurityOptions()
        for word in words {
            guard let entry = Self.names.first(where: { $0.name == word.lowercased() }) else {
                throw SASLConfigurationError(
                    parameter: parameter, value: words.joined(separator: ", "),
                    "unknown option \"\(word)\"; expected any of \(Self.names.map(\.name).joined(separator: ", "))")
            }
            options.refused.formUnion(entry.refused)
            options.required.formUnion(entry.required)
        }
        self = options
    }

    /// Whether a mechanism with `properties` may be offered (xsasl_dovecot_server_mech_filter).
    public func allows(_ properties: SASLMechanismProperties) -> Bool {
        properties.isSuperset(of: required) && properties.isDisjoint(with: refused)
    }
}

/// `smtpd_sasl_mechanism_filter`: which of the back end's mechanisms are offered at all, as
/// Postfix's sasl_mech_filter applies a string_list(3): each pattern in order, case-insensitive;
/// `!pattern` excludes; `type:table` matches a name that the table has a value for (so the default
/// `static:rest` matches everything); the first matching pattern decides, and a name no pattern
/// matches is dropped. An empty filter keeps every mechanism.
public struct SASLMechanismFilter: Sendable {
    private enum Pattern: Sendable {
        case name(String)
        case table(any LookupTable)
    }
    private let patterns: [(negated: Bool, pattern: Pattern)]

    /// Postfix's default, `!external, static:rest`.
    public static var postfixDefault: SASLMechanismFilter {
        // Both patterns are valid, so parsing cannot fail.
        (try? SASLMechanismFilter(parsing: ["!external", "static:rest"])) ?? SASLMechanismFilter(patterns: [])
    }

    private init(patterns: [(negated: Bool, pattern: Pattern)]) {
        self.patterns = patterns
    }

    public init(parsing words: [String], parameter: String = "smtpd_sasl_mechanism_filter") throws(SASLConfigurationError) {
        var patterns: [(negated: Bool, pattern: Pattern)] = []
        for word in words {
            var text = Substring(word)
            var negated = false
            while text.hasPrefix("!") {
                negated.toggle()
                text = text.dropFirst()
            }
            if text.hasPrefix("/") {
                throw SASLConfigurationError(
                    parameter: parameter, value: words.joined(separator: ", "),
                    "patterns read from a file (\(word)) are not supported; list the mechanism names or use a table")
            }
            if text.contains(":") {
                do {
                    let table = try TableReference(parsing: String(text)).open()
                    patterns.append((negated, .table(table)))
                } catch {
                    throw SASLConfigurationError(parameter: parameter, value: words.joined(separator: ", "), "\(error)")
                }
            } else {
                patterns.append((negated, .name(text.uppercased())))
            }
        }
        self.patterns = patterns
    }

    /// Whether `mechanism` passes the filter. A table that fails to answer drops the mechanism.
    public func allows(_ mechanism: SASLMechanismName) -> Bool {
        guard !patterns.isEmpty else { return true }
        for (negated, pattern) in patterns {
            let matches: Bool
            switch pattern {
            case .name(let name):
                matches = name == mechanism.rawValue
            case .table(let table):
                // Fixed-string tables fold the key's case themselves; pattern tables decide by their flags.
                matches = ((try? table.lookup(mechanism.rawValue)) ?? nil) != nil
            }
            if matches { return !negated }
        }
        return false
    }
}
