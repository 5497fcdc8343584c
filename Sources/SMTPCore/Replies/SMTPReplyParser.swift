import NIOCore

/// Why a server reply could not be parsed.
public enum SMTPReplyParserError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A line that does not start with a three-digit code (2xx to 5xx) followed by space, hyphen or its end.
    case malformedLine(String)
    /// A continuation line whose code differs from the first line's.
    case mixedCodes(first: Int, then: Int)
    /// A line longer than `SMTPLimits.maximumReplyLineLength`.
    case lineTooLong
    /// The reply grew beyond `SMTPLimits.maximumReplyLength` octets or `maximumReplyLines` lines.
    case replyTooLong

    public var description: String {
        switch self {
        case .malformedLine(let line): return "malformed reply line: \(line.prefix(100))"
        case .mixedCodes(let first, let then): return "reply code \(then) in a multi-line \(first) reply"
        case .lineTooLong: return "reply line too long"
        case .replyTooLong: return "multi-line reply too long"
        }
    }
}

/// Reads server replies incrementally from the bytes the client receives (RFC 5321 section 4.2).
///
/// Each complete line is consumed as it arrives, so a reply split over many reads, or a peer that sends
/// an endless multi-line reply, holds no more than `SMTPLimits.maximumReplyLength` octets.
public struct SMTPReplyParser: Sendable {
    /// What one call of `next(from:)` found.
    public enum Result: Hashable, Sendable {
        case reply(SMTPReply)
        case needMoreBytes
    }

    private let limits: SMTPLimits
    private var code: Int?
    private var enhancedStatus: EnhancedStatusCode?
    private var lines: [String] = []
    private var octets = 0
    /// After an over-long line: its rest is skipped up to the next LF.
    private var skippingLongLine = false

    public init(limits: SMTPLimits = .postfixDefaults) {
        self.limits = limits
    }

    /// Takes the next complete reply from `buffer`, consuming its lines; throws for a malformed reply,
    /// after which the parser is ready for a new reply (the client should give up on the session).
    public mutating func next(from buffer: inout ByteBuffer) throws(SMTPReplyParserError) -> Result {
        while true {
            let view = buffer.readableBytesView
            if skippingLongLine {
                guard let lineFeed = view.firstIndex(of: ASCII.lf) else {
                    buffer.moveReaderIndex(forwardBy: view.count)
                    return .needMoreBytes
                }
                buffer.moveReaderIndex(forwardBy: lineFeed - view.startIndex + 1)
                skippingLongLine = false
                continue
            }
            guard let lineFeed = view.prefix(limits.maximumReplyLineLength + 2).firstIndex(of: ASCII.lf) else {
                if view.count > limits.maximumReplyLineLength + 1 {
                    // Skip the line through its LF, now or as it arrives.
                    reset()
                    if let lineFeed = view.firstIndex(of: ASCII.lf) {
                        buffer.moveReaderIndex(forwardBy: lineFeed - view.startIndex + 1)
                    } else {
                        buffer.moveReaderIndex(forwardBy: view.count)
                        skippingLongLine = true
                    }
                    throw .lineTooLong
                }
                return .needMoreBytes
            }
            let length = lineFeed - view.startIndex
            var line = Array(view.prefix(length))
            buffer.moveReaderIndex(forwardBy: length + 1)
            if line.last == ASCII.cr { line.removeLast() }
            if line.count > limits.maximumReplyLineLength {
                reset()
                throw .lineTooLong
            }
            octets += line.count + 2
            if octets > limits.maximumReplyLength || lines.count >= limits.maximumReplyLines {
                reset()
                throw .replyTooLong
            }
            if let reply = try take(line) {
                return .reply(reply)
            }
        }
    }

    // RFC 5321 section 4.2:
    //   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
    //                Reply-code [ SP textstring ] CRLF
    //   Reply-code = %x32-35 %x30-35 %x30-39
    // RFC 2034: every line of the text starts with the same enhanced status code.
    private mutating func take(_ line: [UInt8]) throws(SMTPReplyParserError) -> SMTPReply? {
        guard line.count >= 3, (0x32...0x35).contains(line[0]), ASCII.isDigit(line[1]), ASCII.isDigit(line[2]),
              line.count == 3 || line[3] == ASCII.space || line[3] == ASCII.hyphen
        else {
            reset()
            throw .malformedLine(String(decoding: line, as: UTF8.self).printableForSMTP)
        }
        let lineCode = Int(line[0] - 0x30) * 100 + Int(line[1] - 0x30) * 10 + Int(line[2] - 0x30)
        if let code, code != lineCode {
            reset()
            throw .mixedCodes(first: code, then: lineCode)
        }
        let isLast = line.count == 3 || line[3] == ASCII.space
        var text = Array(line.dropFirst(4))
        // Postfix's smtp_chat_resp(): only a status code whose class matches the reply's counts.
        if lineCode / 100 != 3, let (status, length) = EnhancedStatusCode.parse(prefixOf: text),
           status.statusClass == lineCode / 100, code == nil || status == enhancedStatus {
            if code == nil { enhancedStatus = status }
            text.removeFirst(length)
            while text.first == ASCII.space { text.removeFirst() }
        }
        code = lineCode
        lines.append(String(decoding: text, as: UTF8.self).printableForSMTP)
        guard isLast else { return nil }
        let reply = SMTPReply(code: lineCode, enhancedStatus: enhancedStatus, lines: lines)
        reset()
        return reply
    }

    private mutating func reset() {
        code = nil
        enhancedStatus = nil
        lines = []
        octets = 0
    }
}
