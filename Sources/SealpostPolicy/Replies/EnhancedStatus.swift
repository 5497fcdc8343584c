/// RFC 3463 enhanced status codes as Postfix handles them (dsn_util.c, smtpd_dsn_fix.c).
enum EnhancedStatus {
    // dsn_util.c, dsn_valid(): "2", "4" or "5", a dot, 1-3 digits, a dot, 1-3 digits, then the
    // end or whitespace.
    /// The length of the status code at the start of `text`, or 0 when there is none.
    static func validLength(_ text: Substring) -> Int {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "2") || bytes[0] == UInt8(ascii: "4") || bytes[0] == UInt8(ascii: "5"),
            bytes[1] == UInt8(ascii: ".")
        else { return 0 }
        var index = 2
        var length = 0
        while index + length < bytes.count && isASCIIDigit(bytes[index + length]) { length += 1 }
        guard length >= 1, length <= 3, index + length < bytes.count, bytes[index + length] == UInt8(ascii: ".") else { return 0 }
        index += length + 1
        length = 0
        while index + length < bytes.count && isASCIIDigit(bytes[index + length]) { length += 1 }
        guard length >= 1, length <= 3 else { return 0 }
        if index + length < bytes.count {
            let next = bytes[index + length]
            guard next == UInt8(ascii: " ") || (next >= 9 && next <= 13) else { return 0 }
        }
        return index + length
    }

    // dsn_util.c, dsn_split(): skip leading whitespace; an optional status code (else the
    // default), then the free text with leading whitespace skipped.
    /// The status code (or `defaultStatus`) and the text after it.
    static func split(_ text: Substring, defaultStatus: String) -> (status: String, text: String) {
        var rest = text.drop(while: { $0 == " " || $0 == "\t" })
        let length = validLength(rest)
        let status: String
        if length > 0 {
            status = String(rest.utf8.prefix(length))!
            rest = Substring(rest.utf8.dropFirst(length))
        } else {
            status = defaultStatus
        }
        return (status, String(rest.drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })))
    }

    // smtpd_dsn_fix.c: an address status X.1.Y given for the wrong kind of address is mapped
    // (a recipient code when a sender is rejected, and the other way round); for a non-address
    // it becomes X.0.0. Other codes pass unchanged.
    /// `status` adjusted to what is being rejected, and the "mapping DSN status" notice Postfix
    /// logs when it changes anything but the class digit.
    static func fix(_ status: String, for replyClass: ReplyClass) -> (status: String, notice: String?) {
        let bytes = Array(status.utf8)
        guard bytes.count >= 4, isASCIIDigit(bytes[0]), String(decoding: bytes[1..<4], as: UTF8.self) == ".1." else {
            return (status, nil)
        }
        let micro = String(decoding: bytes[4...], as: UTF8.self)
        let senderDSN = "4.1.7"
        let map: [String: (sender: String, recipient: String)] = [
            "1": (senderDSN, "4.1.1"), "2": ("4.1.8", "4.1.2"), "3": ("4.1.7", "4.1.3"), "4": (senderDSN, "4.1.4"),
            "5": ("4.1.0", "4.1.5"), "6": (senderDSN, "4.1.6"), "7": ("4.1.7", "4.1.3"), "8": ("4.1.8", "4.1.2"),
        ]
        let result: String
        switch replyClass {
        case .sender: result = map[micro]?.sender ?? "4.1.0"
        case .recipient: result = map[micro]?.recipient ?? "4.1.0"
        default: result = "4.0.0"
        }
        var notice: String?
        if status.dropFirst(2) != result.dropFirst(2) {
            notice = "mapping DSN status \(status) into \(replyClass.rawValue) status \(status.prefix(1))\(result.dropFirst())"
        }
        return (result, notice)
    }
}

/// What is being rejected: the word after `<name>:` in a reply (smtpd_dsn_fix.h, SMTPD_NAME_*).
public enum ReplyClass: String, Sendable, Hashable {
    case client = "Client host"
    case reverseClient = "Unverified Client host"
    case clientCertificate = "Client certificate"
    case saslLogin = "SASL login name"
    case helo = "Helo command"
    case sender = "Sender address"
    case recipient = "Recipient address"
    case etrn = "Etrn command"
    case data = "Data command"
    case endOfData = "End-of-data"
}
