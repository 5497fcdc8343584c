/// A parsed `main.cf`: `name = value` entries in file order, with their line numbers.
///
/// Parsing follows Postfix's `dict_load_fp()` and `split_nameval()`: logical lines (see
/// ``LogicalLineReader``), the name up to whitespace or `=`, the value with surrounding whitespace
/// removed, and no expansion (values are expanded lazily, when used). A name given twice keeps the
/// last value, with the warning postconf gives.
public struct MainConfFile: Sendable {
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var value: String
        /// The physical line where the entry starts.
        public var line: Int
    }

    /// The file the entries came from (for messages).
    public var path: String
    /// Every entry as written, including ones that a later entry overrides.
    public var entries: [Entry]
    /// The effective entry for each name (the last one in the file).
    public var effective: [String: Entry]
    public var diagnostics: [ConfigurationDiagnostic]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        entries = []
        effective = [:]
        diagnostics = []

        let (lines, warnings) = LogicalLineReader.read(bytes)
        for warning in warnings {
            diagnostics.append(.warning(.init(file: path, line: warning.line), warning.message, code: "syntax"))
        }
        for logical in lines {
            let location = SourceLocation(file: path, line: logical.firstLine)
            switch Self.splitNameValue(logical.text) {
            case .failure(let problem):
                diagnostics.append(
                    .error(
                        location,
                        "\(problem.rawValue): \"\(logical.text)\"; expected \"name = value\"",
                        code: "syntax"))
            case .success(let (name, value)):
                if let earlier = effective[name], earlier.value != value {
                    diagnostics.append(
                        .warning(location, "overriding earlier entry: \(name)=\(earlier.value)", code: "override"))
                }
                let entry = Entry(name: name, value: value, line: logical.firstLine)
                entries.append(entry)
                effective[name] = entry
            }
        }
    }

    public enum NameValueProblem: String, Error {
        case missingName = "missing attribute name"
        case missingEquals = "missing '=' after attribute name"
    }

    /// Splits `name = value` as Postfix's `split_nameval()`: the name ends at whitespace or `=`,
    /// and whitespace around the value is removed.
    public static func splitNameValue(_ text: String) -> Result<(String, String), NameValueProblem> {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count && isPostfixSpace(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] != UInt8(ascii: "=") else { return .failure(.missingName) }
        let nameStart = index
        while index < bytes.count && !isPostfixSpace(bytes[index]) && bytes[index] != UInt8(ascii: "=") {
            index += 1
        }
        let nameEnd = index
        while index < bytes.count && isPostfixSpace(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return .failure(.missingEquals) }
        let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
        let value = PostfixList.trimmed(String(decoding: bytes[(index + 1)...], as: UTF8.self))
        return .success((name, value))
    }
}
