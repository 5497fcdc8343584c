import NIOCore

/// Splits the command-phase byte stream into lines, with a hard limit on their length.
///
/// SwiftNIO's `LineBasedFrameDecoder` has no limit of its own and treats a bare LF like CR LF without
/// saying so; SMTP needs both told apart (bare LF handling is what SMTP smuggling abuses). The framer
/// consumes bytes from the caller's cumulation buffer: whatever the peer sends, it never leaves more
/// than `lineLengthLimit + 1` unconsumed octets in that buffer, and holds at most `lineLengthLimit`
/// octets itself (the prefix of an over-long line).
public struct SMTPLineFramer: Sendable {
    /// What one call of `next(from:)` found.
    public enum Result: Hashable, Sendable {
        /// A complete line.
        case line(SMTPLine)
        /// A line longer than the limit ended (or the framer stopped reading because of it).
        case lineTooLong(SMTPOverlongLine)
        /// No complete line yet; call again when more bytes arrived.
        case needMoreBytes
    }

    /// The current line length limit: `line_length_limit` for commands, `smtpd_sasl_response_limit`
    /// while the server reads AUTH responses.
    public var lineLengthLimit: Int {
        didSet { lineLengthLimit = max(lineLengthLimit, 2) }
    }

    private enum Mode: Sendable {
        case reading
        /// Skipping the excess of an over-long line up to its LF.
        case discarding(prefix: ByteBuffer, discarded: Int)
        /// The excess exceeded the limit too: input is ignored from now on.
        case stopped
    }

    private var mode: Mode = .reading
    /// How many octets at the front of the caller's buffer are known to hold no LF (saves rescanning
    /// when bytes trickle in).
    private var scannedWithoutLineFeed = 0
    /// The last octet discarded so far was a CR (it belongs to the line ending if a LF follows).
    private var discardedCR = false

    public init(lineLengthLimit: Int) {
        self.lineLengthLimit = max(lineLengthLimit, 2)
    }

    public init(limits: SMTPLimits = .postfixDefaults) {
        self.init(lineLengthLimit: limits.lineLengthLimit)
    }

    /// The framer stopped reading because of an over-long line; everything that arrives is discarded.
    public var hasStoppedReading: Bool {
        if case .stopped = mode { return true }
        return false
    }

    /// Forgets any partial state, as after STARTTLS, when the server also discards every plaintext
    /// octet it had buffered (CVE-2011-0411).
    public mutating func reset() {
        mode = .reading
        scannedWithoutLineFeed = 0
        discardedCR = false
    }

    /// Takes the next line from `buffer`, consuming what it used.
    ///
    /// Pass the same cumulation buffer every time, with new bytes appended at its end.
    public mutating func next(from buffer: inout ByteBuffer) -> Result {
        switch mode {
        case .stopped:
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return .needMoreBytes
        case .discarding(let prefix, let discarded):
            return discard(from: &buffer, prefix: prefix, alreadyDiscarded: discarded)
        case .reading:
            return read(from: &buffer)
        }
    }

    private mutating func read(from buffer: inout ByteBuffer) -> Result {
        let limit = lineLengthLimit
        let view = buffer.readableBytesView
        // A line may hold at most limit - 1 text octets plus its ending: the LF sits at index `limit`
        // at the latest (when a CR precedes it). Look no further than that.
        let window = min(view.count, limit + 1)
        let start = min(scannedWithoutLineFeed, window)
        let searched = view.dropFirst(start).prefix(window - start)
        if let lineFeed = searched.firstIndex(of: ASCII.lf) {
            let offset = lineFeed - view.startIndex
            let hasCR = offset > 0 && view[lineFeed - 1] == ASCII.cr
            let textLength = hasCR ? offset - 1 : offset
            scannedWithoutLineFeed = 0
            if textLength >= limit {
                // Only possible for a bare LF at index `limit`.
                let prefix = ByteBuffer(bytes: view.prefix(limit))
                buffer.moveReaderIndex(forwardBy: offset + 1)
                return .lineTooLong(SMTPOverlongLine(prefix: prefix, discardedOctets: textLength - limit, inputStopped: false))
            }
            let line = buffer.getSlice(at: buffer.readerIndex, length: textLength)!
            buffer.moveReaderIndex(forwardBy: offset + 1)
            return .line(SMTPLine(bytes: line, ending: hasCR ? .crlf : .bareLineFeed))
        }
        if window <= limit {
            scannedWithoutLineFeed = window
            return .needMoreBytes
        }
        // limit + 1 octets and no LF: the line is too long. Keep its first `limit` octets and skip on.
        scannedWithoutLineFeed = 0
        let prefix = ByteBuffer(bytes: view.prefix(limit))
        buffer.moveReaderIndex(forwardBy: limit)
        return discard(from: &buffer, prefix: prefix, alreadyDiscarded: 0)
    }

    private mutating func discard(from buffer: inout ByteBuffer, prefix: ByteBuffer, alreadyDiscarded: Int) -> Result {
        let view = buffer.readableBytesView
        // Postfix allows the skipped excess `limit` octets before it disables input.
        let allowance = max(lineLengthLimit - alreadyDiscarded, 1)
        if let lineFeed = view.prefix(allowance).firstIndex(of: ASCII.lf) {
            let skipped = lineFeed - view.startIndex
            buffer.moveReaderIndex(forwardBy: skipped + 1)
            mode = .reading
            var discarded = alreadyDiscarded + skipped
            if skipped > 0 ? view[lineFeed - 1] == ASCII.cr : discardedCR { discarded -= 1 }
            discardedCR = false
            return .lineTooLong(SMTPOverlongLine(prefix: prefix, discardedOctets: discarded, inputStopped: false))
        }
        if view.count >= allowance {
            buffer.moveReaderIndex(forwardBy: view.count)
            mode = .stopped
            return .lineTooLong(SMTPOverlongLine(
                prefix: prefix, discardedOctets: alreadyDiscarded + view.count, inputStopped: true))
        }
        if let last = view.last { discardedCR = last == ASCII.cr }
        buffer.moveReaderIndex(forwardBy: view.count)
        mode = .discarding(prefix: prefix, discarded: alreadyDiscarded + view.count)
        return .needMoreBytes
    }
}
