/// A problem in a lookup table that Postfix also tolerates: the table still opens.
public struct TableWarning: Sendable, Hashable, CustomStringConvertible {
    /// The table file, or the inline table text.
    public var file: String
    /// The physical line (1-based), when the warning belongs to one.
    public var line: Int?
    /// The explanation, in Postfix's wording where Postfix has one.
    public var message: String

    /// Makes a warning about `file` (and `line`).
    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`.
    public var description: String {
        if let line { "\(file):\(line): \(message)" } else { "\(file): \(message)" }
    }
}
