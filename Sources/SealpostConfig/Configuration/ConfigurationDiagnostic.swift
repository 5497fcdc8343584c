/// A place in a configuration file.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// The physical line, when the problem belongs to one.
    public var line: Int?

    public init(file: String, line: Int? = nil) {
        self.file = file
        self.line = line
    }

    /// `file:line`, the form editors and compilers use, or just the file.
    public var description: String {
        if let line { "\(file):\(line)" } else { file }
    }
}

/// A finding about the configuration: an error stops start-up, a warning does not, a notice is
/// information (a parameter that is set but not in effect yet, for example).
public struct ConfigurationDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case error, warning, notice

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .notice: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    /// Where it is, when it belongs to a file.
    public var location: SourceLocation?
    /// A stable short identifier of the kind of finding (`syntax`, `value`, `unknown-parameter`, …)
    /// for tests and scripts.
    public var code: String
    /// The human explanation, one line.
    public var message: String

    public init(severity: Severity, location: SourceLocation?, code: String, message: String) {
        self.severity = severity
        self.location = location
        self.code = code
        self.message = message
    }

    public static func error(_ location: SourceLocation?, _ message: String, code: String) -> Self {
        .init(severity: .error, location: location, code: code, message: message)
    }

    public static func warning(_ location: SourceLocation?, _ message: String, code: String) -> Self {
        .init(severity: .warning, location: location, code: code, message: message)
    }

    public static func notice(_ location: SourceLocation?, _ message: String, code: String) -> Self {
        .init(severity: .notice, location: location, code: code, message: message)
    }

    /// `location: message`, one line.
    public var description: String {
        let oneLine = message.contains("\n") ? message.split(separator: "\n").joined(separator: " ") : message
        if let location { return "\(location): \(oneLine)" }
        return oneLine
    }
}

extension Array where Element == ConfigurationDiagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public var errors: [ConfigurationDiagnostic] { filter { $0.severity == .error } }
}
