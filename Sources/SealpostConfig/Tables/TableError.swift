/// Why a lookup table could not be named, opened, read or searched.
///
/// `file` is the table's file, or the `type:{…}` text of a table written inline in `main.cf`;
/// `line` is the physical line of the rule at fault when there is one.
public struct TableError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier of the kind of problem, for tests and scripts.
    public enum Code: String, Sendable, Hashable {
        /// The text is not of the form `type:name`.
        case notTypeName = "not-type-name"
        /// The type is one Postfix knows but Sealpost does not implement.
        case unsupportedType = "unsupported-type"
        /// A rule or entry of the table is malformed.
        case syntax
        /// The table's file could not be opened, inspected or read.
        case io
        /// A table returned an empty value, which Postfix treats as a configuration error.
        case emptyResult = "empty-result"
    }

    /// The kind of problem.
    public var code: Code
    /// The table file, or the inline table text, the problem belongs to (nil before a table is named).
    public var file: String?
    /// The physical line (1-based) of the rule at fault.
    public var line: Int?
    /// The explanation, one line, naming the bad text and the expected form where there is one.
    public var message: String

    /// Makes an error; `file` and `line` say where it arose.
    public init(_ code: Code, file: String? = nil, line: Int? = nil, _ message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, the form editors and compilers use.
    public var description: String {
        switch (file, line) {
        case (let file?, let line?): "\(file):\(line): \(message)"
        case (let file?, nil): "\(file): \(message)"
        default: message
        }
    }
}
