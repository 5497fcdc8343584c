import NIOCore

/// What the DATA or BDAT decoder saw in a message's content, for the server's reply after the end of
/// data and for its log.
public struct MessageContentReport: Hashable, Sendable {
    /// Content octets after dot-unstuffing and with every line ending as CR LF (what is stored), counted
    /// against `message_size_limit` as Postfix's `act_size` is.
    public var octets: Int = 0
    /// The content passed `message_size_limit`. The decoder read on to the end of the message but yielded
    /// nothing more; the server answers `SMTPReply.messageFileTooBig` (552 5.3.4) then.
    public var exceededSizeLimit = false
    /// Lines that ended with a LF without CR. With `smtpd_forbid_bare_newline = reject` the server
    /// answers `SMTPReply.bareLineFeedReceived` after the end of data; otherwise they were stored as CR LF.
    public var bareLineFeeds = 0
    /// CRs not followed by LF (passed through as they are).
    public var bareCarriageReturns = 0
    /// NUL octets (passed through as they are).
    public var nulOctets = 0
    /// Lines of `line_length_limit` octets or more (Postfix stores them in pieces; they pass through whole).
    public var longLines = 0
    /// Lines holding only `.` next to a bare LF (`\n.\n`, `\n.\r\n`, `\r\n.\n`): never the end of data;
    /// dropped as Postfix 3.9 drops them with `smtpd_forbid_bare_newline = normalize`.
    public var droppedDotLines = 0
    /// BDAT content that did not end with a line ending; the decoder added CR LF as Postfix does.
    public var addedFinalLineEnding = false

    public init() {}

    /// The content is clean by RFC 5321's rules: no bare CR or LF, no NUL.
    public var hasStrictLineEndings: Bool { bareLineFeeds == 0 && bareCarriageReturns == 0 && droppedDotLines == 0 }
}

/// Counts content octets against `message_size_limit` and decides what may still be yielded.
struct ContentAccounting: Sendable {
    let messageSizeLimit: Int
    let lineLengthLimit: Int
    var report = MessageContentReport()
    /// Octets in the current line so far (line ending excluded; a trailing CR included).
    var lineLength = 0
    var lineCountedLong = false

    init(limits: SMTPLimits) {
        messageSizeLimit = limits.messageSizeLimit
        lineLengthLimit = limits.lineLengthLimit
    }

    /// Counts output octets; false once the message is too big (the piece must not be yielded).
    mutating func admit(_ count: Int) -> Bool {
        guard !report.exceededSizeLimit else {
            report.octets += count
            return false
        }
        report.octets += count
        if messageSizeLimit > 0 && report.octets > messageSizeLimit {
            report.exceededSizeLimit = true
            return false
        }
        return true
    }

    mutating func countLineOctet() {
        lineLength += 1
        if !lineCountedLong && lineLength > lineLengthLimit {
            lineCountedLong = true
            report.longLines += 1
        }
    }

    /// At a LF: `textLength` is the line without its ending.
    mutating func endLine(textLength: Int) {
        if !lineCountedLong && textLength >= lineLengthLimit { report.longLines += 1 }
        lineLength = 0
        lineCountedLong = false
    }
}

/// The octets the decoders yield in place of what they normalize.
enum ContentBytes {
    static let crlf = ByteBuffer(bytes: [ASCII.cr, ASCII.lf])
    static let cr = ByteBuffer(bytes: [ASCII.cr])
    static let lf = ByteBuffer(bytes: [ASCII.lf])
}
