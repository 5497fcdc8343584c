/// A parameter value after `$name` expansion and conversion to its kind.
public enum ParameterValue: Sendable, Hashable {
    case boolean(Bool)
    case integer(Int)
    case size(Int)
    /// A duration in whole seconds.
    case time(seconds: Int)
    case string(String)
    case list([String])
    /// Lookup-table references (`hash:/etc/postfix/access`), each of a supported type.
    case tables([TableReference])
    /// The chosen word, lowercased.
    case choice(String)
    case tlsProtocols(TLSProtocolSelection)
}

/// The TLS protocol versions a `*_tls_protocols` list allows, in Postfix's terms: an optional
/// floor (`>=`), an optional ceiling (`<=`), and excluded versions (`!name`, or every known
/// version missing from a list of bare names).
public struct TLSProtocolSelection: Sendable, Hashable {
    /// A TLS protocol version with its wire number.
    public enum Version: Int, Sendable, Hashable, CaseIterable, Comparable {
        case sslv2 = 0x0002
        case sslv3 = 0x0300
        case tlsv1 = 0x0301
        case tlsv1_1 = 0x0302
        case tlsv1_2 = 0x0303
        case tlsv1_3 = 0x0304

        /// The name Postfix and OpenSSL use (`TLSv1.2`).
        public var name: String {
            switch self {
            case .sslv2: "SSLv2"
            case .sslv3: "SSLv3"
            case .tlsv1: "TLSv1"
            case .tlsv1_1: "TLSv1.1"
            case .tlsv1_2: "TLSv1.2"
            case .tlsv1_3: "TLSv1.3"
            }
        }

        public init?(name: String) {
            guard let match = Self.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                return nil
            }
            self = match
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The lowest wire version allowed (`>=`); 0 means no floor.
    public var minimumWireVersion: Int
    /// The highest wire version allowed (`<=`); 0 means no ceiling.
    public var maximumWireVersion: Int
    /// Versions excluded by name.
    public var excluded: Set<Version>
    /// Whether the list used the obsolete include-only form (bare names such as `TLSv1`), which
    /// excludes every known version that is not named.
    public var usesIncludeList: Bool

    /// The versions this selection allows, among those known.
    public var allowedVersions: [Version] {
        Version.allCases.filter { version in
            !excluded.contains(version)
                && (minimumWireVersion == 0 || version.rawValue >= minimumWireVersion)
                && (maximumWireVersion == 0 || version.rawValue <= maximumWireVersion)
        }
    }

    /// Parses a protocol list as Postfix's `tls_proto_mask_lims()`: words separated by commas,
    /// whitespace or colons; `>=V` and `<=V` (a name, `None`, or a hexadecimal wire version);
    /// `!name` excludes; bare names form an include list.
    public static func parse(_ text: String) -> TLSProtocolSelection? {
        var selection = TLSProtocolSelection(minimumWireVersion: 0, maximumWireVersion: 0, excluded: [], usesIncludeList: false)
        var included: Set<Version> = []
        let words = text.split(whereSeparator: { $0 == "," || $0 == ":" || $0.isPostfixSpace })
        for word in words {
            if word.hasPrefix(">=") || word.hasPrefix("<=") {
                guard let version = parseBound(String(word.dropFirst(2))) else { return nil }
                if word.hasPrefix(">=") { selection.minimumWireVersion = version } else { selection.maximumWireVersion = version }
            } else if word.hasPrefix("!") {
                guard let version = Version(name: String(word.dropFirst())) else { return nil }
                selection.excluded.insert(version)
            } else {
                guard let version = Version(name: String(word)) else { return nil }
                included.insert(version)
            }
        }
        if !included.isEmpty {
            selection.usesIncludeList = true
            selection.excluded.formUnion(Set(Version.allCases).subtracting(included))
        }
        return selection
    }

    private static func parseBound(_ text: String) -> Int? {
        if text.lowercased() == "none" { return 0 }
        if let version = Version(name: text), version != .sslv2 { return version.rawValue }
        let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
        guard !digits.isEmpty, let number = Int(digits, radix: 16), number >= 0, number <= Int(Int32.max) else { return nil }
        return number
    }
}

/// Converts expanded parameter text to a ``ParameterValue`` of the parameter's kind.
public enum ParameterValueParser {
    /// The value, or the expected form (for the error message) when the text does not fit.
    public static func parse(_ text: String, as definition: ParameterDefinition) -> Result<ParameterValue, ValueProblem> {
        let kind = definition.kind
        switch kind {
        case .boolean:
            switch text.lowercased() {
            case "yes": return .success(.boolean(true))
            case "no": return .success(.boolean(false))
            default: return .failure(.init(expected: expectedForm(of: definition)))
            }
        case .integer, .size:
            guard let number = parseInteger(text) else { return .failure(.init(expected: expectedForm(of: definition))) }
            if let problem = rangeProblem(number, definition) { return .failure(problem) }
            return .success(kind == .size ? .size(number) : .integer(number))
        case .time(let defaultUnit):
            guard let seconds = parseTime(text, defaultUnit: defaultUnit) else {
                return .failure(.init(expected: expectedForm(of: definition)))
            }
            if let problem = rangeProblem(seconds, definition) { return .failure(problem) }
            return .success(.time(seconds: seconds))
        case .string:
            return .success(.string(text))
        case .list:
            return .success(.list(PostfixList.split(text)))
        case .tables:
            var references: [TableReference] = []
            for word in PostfixList.split(text) {
                do {
                    references.append(try TableReference(parsing: word))
                } catch {
                    return .failure(.init(expected: "lookup tables as type:name (\(error.message))"))
                }
            }
            return .success(.tables(references))
        case .choice(let choices):
            let lowered = text.lowercased()
            guard choices.contains(where: { $0.lowercased() == lowered }) else {
                return .failure(.init(expected: expectedForm(of: definition)))
            }
            return .success(.choice(lowered))
        case .tlsProtocols:
            guard let selection = TLSProtocolSelection.parse(text) else {
                return .failure(.init(expected: expectedForm(of: definition)))
            }
            return .success(.tlsProtocols(selection))
        }
    }

    /// Why a value was refused: the form the parameter expects.
    public struct ValueProblem: Error, Sendable, Hashable {
        public var expected: String
    }

    /// The expected form of a parameter's value, in words, for error messages.
    public static func expectedForm(of definition: ParameterDefinition) -> String {
        let range = rangeText(definition)
        switch definition.kind {
        case .boolean:
            return "yes or no"
        case .integer:
            return "a whole number\(range)"
        case .size:
            return "a size in bytes (a whole number)\(range)"
        case .time(let unit):
            return "a time: a number with an optional unit s (seconds), m (minutes), h (hours), d (days) "
                + "or w (weeks), \(unit) when no unit is given\(range)"
        case .string, .list, .tables:
            return "text"
        case .choice(let choices):
            let shown = choices.map { $0.isEmpty ? "(empty)" : $0 }
            return "one of: " + shown.joined(separator: ", ")
        case .tlsProtocols:
            return "a TLS protocol list such as \">=TLSv1.2\", \">=TLSv1.2, <=TLSv1.3\" or \"!SSLv2, !SSLv3\" "
                + "(protocols: SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)"
        }
    }

    /// A decimal integer with an optional sign, as Postfix's `strtol` conversions accept it.
    static func parseInteger(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        guard let value = Int(text), value >= Int(Int32.min), value <= Int(Int32.max) else { return nil }
        return value
    }

    /// A time as Postfix's `conv_time()`: a non-negative number and one optional unit letter.
    /// Unlike Postfix, text after the unit is refused rather than ignored.
    static func parseTime(_ text: String, defaultUnit: Character) -> Int? {
        var digits = Substring(text)
        var unit = defaultUnit
        if let last = digits.last, !last.isASCIIDigit {
            unit = last
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let number = Int(digits), number <= Int(Int32.max) else {
            return nil
        }
        let multiplier: Int
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86400
        case "w": multiplier = 604800
        default: return nil
        }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, seconds <= Int(Int32.max) else { return nil }
        return seconds
    }

    private static func rangeProblem(_ value: Int, _ definition: ParameterDefinition) -> ValueProblem? {
        if let minimum = definition.minimum, value < minimum { return .init(expected: expectedForm(of: definition)) }
        if let maximum = definition.maximum, value > maximum { return .init(expected: expectedForm(of: definition)) }
        return nil
    }

    private static func rangeText(_ definition: ParameterDefinition) -> String {
        let unit: String
        if case .time = definition.kind { unit = "s" } else { unit = "" }
        switch (definition.minimum, definition.maximum) {
        case (let minimum?, let maximum?): return " from \(minimum)\(unit) to \(maximum)\(unit)"
        case (let minimum?, nil): return " of at least \(minimum)\(unit)"
        case (nil, let maximum?): return " of at most \(maximum)\(unit)"
        case (nil, nil): return ""
        }
    }
}
