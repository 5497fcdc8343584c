import NIOCore

/// An RFC 3463 enhanced mail system status code: `class.subject.detail`, such as `5.1.7`.
public struct EnhancedStatusCode: Hashable, Sendable, CustomStringConvertible {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    public var statusClass: Int
    /// 0 to 999.
    public var subject: Int
    /// 0 to 999.
    public var detail: Int

    /// Nil unless the class is 2, 4 or 5 and subject and detail are 0...999 (RFC 3463 section 2).
    public init?(statusClass: Int, subject: Int, detail: Int) {
        guard [2, 4, 5].contains(statusClass), (0...999).contains(subject), (0...999).contains(detail) else { return nil }
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    /// Parses `class "." subject "." detail` and nothing else.
    public init?(_ text: String) {
        guard let (code, length) = EnhancedStatusCode.parse(prefixOf: Array(text.utf8)), length == text.utf8.count else {
            return nil
        }
        self = code
    }

    public var description: String { "\(statusClass).\(subject).\(detail)" }

    // RFC 3463 section 2:
    //   status-code = class "." subject "." detail
    //   class = "2" / "4" / "5"
    //   subject = 1*3digit
    //   detail = 1*3digit
    /// The status code at the start of `bytes` and its length, when it is followed by a space or the end
    /// (as Postfix's `dsn_valid()` requires).
    static func parse(prefixOf bytes: [UInt8]) -> (EnhancedStatusCode, Int)? {
        var index = 0
        func number(maximumDigits: Int) -> Int? {
            var value = 0
            var digits = 0
            while index < bytes.count, ASCII.isDigit(bytes[index]), digits < maximumDigits {
                value = value * 10 + Int(bytes[index] - 0x30)
                index += 1
                digits += 1
            }
            return digits == 0 ? nil : value
        }
        guard let statusClass = number(maximumDigits: 1), index < bytes.count, bytes[index] == ASCII.dot else { return nil }
        index += 1
        guard let subject = number(maximumDigits: 3), index < bytes.count, bytes[index] == ASCII.dot else { return nil }
        index += 1
        guard let detail = number(maximumDigits: 3) else { return nil }
        guard index == bytes.count || bytes[index] == ASCII.space else { return nil }
        guard let code = EnhancedStatusCode(statusClass: statusClass, subject: subject, detail: detail) else { return nil }
        return (code, index)
    }
}
