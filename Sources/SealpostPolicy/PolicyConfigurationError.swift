import SealpostConfig

/// A restriction list, access table or address list that cannot be used: start-up stops with
/// the parameter, the offending text and what was expected (Postfix stops with a fatal error for
/// most of these, or fails every request that reaches them with "451 4.3.5 Server configuration
/// error").
public struct PolicyConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The parameter whose value is at fault (`smtpd_recipient_restrictions`).
    public var parameter: String
    /// The word of the value at fault, when there is one.
    public var value: String?
    /// What is wrong, and the expected form.
    public var message: String
    /// Where the parameter is set (main.cf or a master.cf `-o`), when known.
    public var location: SourceLocation?

    public init(parameter: String, value: String? = nil, _ message: String, location: SourceLocation? = nil) {
        self.parameter = parameter
        self.value = value
        self.message = message
        self.location = location
    }

    /// `file:line: parameter: message`.
    public var description: String {
        let text = "\(parameter): \(message)"
        if let location { return "\(location): \(text)" }
        return text
    }

    /// The error as a configuration finding (code `restriction`), for `check` and start-up.
    public var diagnostic: ConfigurationDiagnostic {
        .error(location, "\(parameter): \(message)", code: "restriction")
    }
}
