import NIOCore

/// Decodes message content after the `354` reply to DATA: removes dot-stuffing, finds the end of data,
/// and yields the content with every line ending as CR LF.
///
/// The end of data is only CR LF "." CR LF (RFC 5321 section 4.1.1.4), where the first line of the
/// message counts as following a CR LF. None of the SMTP smuggling forms (`\n.\n`, `\n.\r\n`,
/// `\r.\n`, `\r.\r\n`, `\r\n\0.\r\n`) ends the message or lets anything after it be read as commands:
/// a `.` line next to a bare LF is dropped, as Postfix 3.9 does with `smtpd_forbid_bare_newline =
/// normalize`; the others are content. Bare LFs are counted in the report so the server can reject
/// the message after its end (`smtpd_forbid_bare_newline = reject`). The decoder behaves the same
/// for every value of that parameter: Postfix's legacy `no`, where `\n.\n` ends the message, is the
/// smuggling hole itself and is not reproduced.
///
/// The decoder holds no content: each `.content` is a slice of the caller's buffer (a constant for a
/// CR LF that replaces a bare LF), and the state between calls is a few flags.
public struct DataDecoder: Sendable {
    /// What one call of `next(from:)` found.
    public enum Result: Hashable, Sendable {
        /// Message octets, dot-stuffing removed.
        case content(ByteBuffer)
        /// Everything in the buffer was consumed; call again with more bytes.
        case needMoreBytes
        /// The end-of-data line was consumed; what follows in the buffer are commands again.
        case endOfData(MessageContentReport)
    }

    private enum State: Sendable {
        case lineStart
        case inLine
        /// A `.` at the start of a line was consumed.
        case dot
        /// `.` CR at the start of a line were consumed.
        case dotCR
        case done
    }

    private var state = State.lineStart
    private var lastWasCR = false
    private var previousLineEndedBare = false
    private var pending: ByteBuffer?
    private var accounting: ContentAccounting

    public init(limits: SMTPLimits = .postfixDefaults) {
        accounting = ContentAccounting(limits: limits)
    }

    /// What the decoder has seen so far (complete after `.endOfData`).
    public var report: MessageContentReport { accounting.report }

    /// The end of data was found.
    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// Takes the next piece of content from `buffer`, consuming what it used. After `.endOfData` it
    /// consumes nothing and returns `.endOfData` again.
    public mutating func next(from buffer: inout ByteBuffer) -> Result {
        while true {
            let result = step(&buffer)
            if case .content(let piece) = result, !accounting.admit(piece.readableBytes) { continue }
            return result
        }
    }

    private enum Step {
        /// Yield `buffer[start..<end]` (may be empty), consume `consumed` octets, then yield `then`.
        case emit(start: Int, end: Int, consumed: Int, then: ByteBuffer?)
        case needMoreBytes(consumed: Int)
        case endOfData(consumed: Int)
    }

    private mutating func step(_ buffer: inout ByteBuffer) -> Result {
        if case .done = state { return .endOfData(accounting.report) }
        if let piece = pending {
            pending = nil
            return .content(piece)
        }
        let step = buffer.withUnsafeReadableBytes { scan($0) }
        switch step {
        case .needMoreBytes(let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            return .needMoreBytes
        case .endOfData(let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            return .endOfData(accounting.report)
        case .emit(let start, let end, let consumed, let then):
            let piece = end > start ? buffer.getSlice(at: buffer.readerIndex + start, length: end - start) : nil
            buffer.moveReaderIndex(forwardBy: consumed)
            switch (piece, then) {
            case (let piece?, let then):
                pending = then
                return .content(piece)
            case (nil, let then?):
                return .content(then)
            case (nil, nil):
                return .needMoreBytes
            }
        }
    }

    // RFC 5321 section 4.5.2 (transparency) and section 4.1.1.4:
    //   the mail data ends with "CRLF.CRLF"; a line starting with "." has that "." doubled.
    private mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Step {
        var index = 0
        var runStart = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch state {
            case .done:
                return .endOfData(consumed: index)
            case .lineStart:
                if byte == ASCII.dot {
                    if index > runStart { return .emit(start: runStart, end: index, consumed: index, then: nil) }
                    state = .dot
                    index += 1
                    runStart = index
                    continue
                }
                state = .inLine
                lastWasCR = false
                continue
            case .dot:
                if byte == ASCII.cr {
                    state = .dotCR
                    index += 1
                    runStart = index
                    continue
                }
                if byte == ASCII.lf {
                    // "." ending in a bare LF: not the end of data, and not content either.
                    accounting.report.droppedDotLines += 1
                    accounting.report.bareLineFeeds += 1
                    accounting.endLine(textLength: 1)
                    previousLineEndedBare = true
                    state = .lineStart
                    index += 1
                    runStart = index
                    continue
                }
                // A stuffed line: its first "." is gone, the rest is content.
                accounting.countLineOctet()
                state = .inLine
                lastWasCR = false
                runStart = index
                continue
            case .dotCR:
                if byte == ASCII.lf {
                    accounting.endLine(textLength: 1)
                    if previousLineEndedBare {
                        // "\n.\r\n": the line before ended in a bare LF, so this is no end of data.
                        accounting.report.droppedDotLines += 1
                        previousLineEndedBare = false
                        state = .lineStart
                        index += 1
                        runStart = index
                        continue
                    }
                    state = .done
                    return .endOfData(consumed: index + 1)
                }
                // "." CR and more: a stuffed line whose content starts with a bare CR.
                accounting.countLineOctet()
                accounting.countLineOctet()
                state = .inLine
                lastWasCR = true
                return .emit(start: index, end: index, consumed: index, then: ContentBytes.cr)
            case .inLine:
                if byte == ASCII.lf {
                    accounting.endLine(textLength: accounting.lineLength - (lastWasCR ? 1 : 0))
                    state = .lineStart
                    if lastWasCR {
                        previousLineEndedBare = false
                        lastWasCR = false
                        index += 1
                        continue
                    }
                    accounting.report.bareLineFeeds += 1
                    previousLineEndedBare = true
                    return .emit(start: runStart, end: index, consumed: index + 1, then: ContentBytes.crlf)
                }
                if lastWasCR { accounting.report.bareCarriageReturns += 1 }
                lastWasCR = byte == ASCII.cr
                if byte == ASCII.nul { accounting.report.nulOctets += 1 }
                accounting.countLineOctet()
                index += 1
            }
        }
        if index > runStart { return .emit(start: runStart, end: index, consumed: index, then: nil) }
        return .needMoreBytes(consumed: index)
    }
}
