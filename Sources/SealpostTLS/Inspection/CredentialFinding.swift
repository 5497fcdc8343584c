/// One result of checking TLS files: an error stops start-up, a warning does not.
public struct CredentialFinding: Sendable, Hashable, CustomStringConvertible {
    /// How serious a finding is.
    public enum Severity: String, Sendable, Hashable {
        /// The file cannot be used as configured.
        case error
        /// The file works, but something deserves attention (expiry soon, loose permissions, …).
        case warning
    }

    /// Error or warning.
    public var severity: Severity
    /// The stable code of the problem.
    public var code: TLSCredentialError.Code
    /// The file concerned.
    public var path: String
    /// The human explanation, one line, naming the file.
    public var message: String

    /// Creates a finding from its parts.
    public init(severity: Severity, code: TLSCredentialError.Code, path: String, message: String) {
        self.severity = severity
        self.code = code
        self.path = path
        self.message = message
    }

    /// An error finding carrying a thrown error's code, file and full description.
    public init(_ error: TLSCredentialError) {
        self.init(severity: .error, code: error.code, path: error.path, message: error.description)
    }

    /// `error: message` or `warning: message`.
    public var description: String {
        "\(severity.rawValue): \(message)"
    }
}

extension Array where Element == CredentialFinding {
    /// Whether any finding is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
