import NIOCore

/// A server reply: a three-digit code, an optional RFC 3463 enhanced status code, and one or more
/// lines of text.
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    /// The RFC 5321 reply code, 200...599.
    public var code: Int
    /// The RFC 3463 code repeated at the start of every line's text (RFC 2034), if any.
    public var enhancedStatus: EnhancedStatusCode?
    /// The text lines; a reply always has at least one line (possibly empty).
    public var lines: [String]

    public init(code: Int, enhancedStatus: EnhancedStatusCode? = nil, lines: [String]) {
        self.code = min(max(code, 200), 599)
        self.enhancedStatus = enhancedStatus
        self.lines = lines.isEmpty ? [""] : lines
    }

    public init(code: Int, enhancedStatus: EnhancedStatusCode? = nil, _ text: String) {
        self.init(code: code, enhancedStatus: enhancedStatus, lines: [text])
    }

    /// `"501 5.1.7 Bad sender address syntax"`-style construction from Postfix's reply strings; the
    /// enhanced code is taken from the text when one follows the reply code.
    public init(_ reply: String) {
        let bytes = Array(reply.utf8)
        var code = 500
        var rest = Substring(reply)
        if bytes.count >= 3, bytes.prefix(3).allSatisfy(ASCII.isDigit) {
            code = Int(String(decoding: bytes.prefix(3), as: UTF8.self)) ?? 500
            rest = reply.dropFirst(3).drop { $0 == " " }
        }
        var enhanced: EnhancedStatusCode?
        let restBytes = Array(rest.utf8)
        if let (status, length) = EnhancedStatusCode.parse(prefixOf: restBytes) {
            enhanced = status
            rest = Substring(String(decoding: restBytes.dropFirst(length), as: UTF8.self)).drop { $0 == " " }
        }
        self.init(code: code, enhancedStatus: enhanced, lines: [String(rest)])
    }

    /// 2xx.
    public var isPositiveCompletion: Bool { code / 100 == 2 }
    /// 3xx (`354`, `334`).
    public var isPositiveIntermediate: Bool { code / 100 == 3 }
    /// 4xx.
    public var isTransientFailure: Bool { code / 100 == 4 }
    /// 5xx.
    public var isPermanentFailure: Bool { code / 100 == 5 }
    /// `421` and `521` tell the client the server is closing the connection (Postfix hangs up after them).
    public var closesConnection: Bool { code == 421 || code == 521 }

    /// All lines joined with `\n`, without codes.
    public var text: String { lines.joined(separator: "\n") }

    /// The reply as it goes on the wire with the lines joined by `\n` instead of CR LF, for logs.
    public var description: String {
        wireLines.joined(separator: "\n")
    }

    /// Each line as it goes on the wire, without CR LF.
    public var wireLines: [String] {
        let codeText = String(code)
        let status = enhancedStatus.map { $0.description + " " } ?? ""
        let texts = lines.isEmpty ? [""] : lines
        return texts.enumerated().map { index, line in
            codeText + (index == texts.count - 1 ? " " : "-") + status + line.printableForSMTP
        }
    }

    /// Writes the reply: `250-first` continuation lines and a final `250 last` line, each ending in
    /// CR LF. Control characters in the text (CR and LF among them) become `?`, as Postfix's
    /// `printable()` does, so no text can end a line early or forge another reply.
    public func write(to buffer: inout ByteBuffer) {
        for line in wireLines {
            buffer.writeString(line)
            buffer.writeInteger(ASCII.cr)
            buffer.writeInteger(ASCII.lf)
        }
    }

    /// The encoded reply in a new buffer.
    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        write(to: &buffer)
        return buffer
    }
}
