import NIOCore

/// Decodes the content of RFC 3030 BDAT chunks: exactly the announced number of octets per chunk, no
/// dot-stuffing, no end-of-data line.
///
/// The server counts octets, not lines: a client that announces more octets than it sends gets its
/// next commands read as content, and one that sends more gets the excess read as commands (RFC 3030
/// section 2). One decoder serves a whole message, so line-ending state carries across chunks. Content is
/// yielded as slices of the caller's buffer; with `normalizeLineEndings` (not for BODY=BINARYMIME) a bare
/// LF is yielded as CR LF and content that does not end with a line ending gets one after the last chunk.
public struct ChunkDecoder: Sendable {
    /// What one call of `next(from:)` found.
    public enum Result: Hashable, Sendable {
        case content(ByteBuffer)
        /// The buffer holds no more of the current chunk (or no chunk was started).
        case needMoreBytes
        /// All octets of the chunk were consumed; `last` for BDAT … LAST, whose report is the message's.
        case endOfChunk(last: Bool, report: MessageContentReport)
    }

    private let normalizeLineEndings: Bool
    private var remaining = 0
    private var isLast = false
    private var discarding = false
    private var active = false
    private var lastWasCR = false
    private var atLineStart = true
    private var pending: ByteBuffer?
    private var accounting: ContentAccounting

    public init(limits: SMTPLimits = .postfixDefaults, normalizeLineEndings: Bool = true) {
        accounting = ContentAccounting(limits: limits)
        self.normalizeLineEndings = normalizeLineEndings
    }

    /// What the decoder has seen of the message so far.
    public var report: MessageContentReport { accounting.report }

    /// Postfix's check before a chunk is read: the chunk would take the message past
    /// `message_size_limit` (answer `SMTPReply.chunkExceedsMessageSizeLimit` and discard it).
    public func wouldExceedSizeLimit(chunkSize: Int) -> Bool {
        accounting.messageSizeLimit > 0 && accounting.report.octets > accounting.messageSizeLimit - chunkSize
    }

    /// Begins a chunk after a BDAT command. With `discard`, its octets are consumed and thrown away
    /// without being looked at (Postfix's `skip_bdat()`, after an error).
    public mutating func startChunk(size: Int, last: Bool, discard: Bool = false) {
        remaining = max(size, 0)
        isLast = last
        discarding = discard
        active = true
    }

    /// Takes the next piece of the current chunk from `buffer`, consuming what it used.
    public mutating func next(from buffer: inout ByteBuffer) -> Result {
        while true {
            let result = step(&buffer)
            if case .content(let piece) = result, !accounting.admit(piece.readableBytes) { continue }
            return result
        }
    }

    private mutating func step(_ buffer: inout ByteBuffer) -> Result {
        if let piece = pending {
            pending = nil
            return .content(piece)
        }
        guard active else { return .needMoreBytes }
        if remaining == 0 {
            if isLast && !discarding && normalizeLineEndings && !atLineStart {
                // Postfix stores a last line without line ending as a complete line. Yield the ending
                // first; the next call (remaining still 0, now at a line start) ends the chunk.
                accounting.report.addedFinalLineEnding = true
                accounting.endLine(textLength: accounting.lineLength - (lastWasCR ? 1 : 0))
                atLineStart = true
                let ending = lastWasCR ? ContentBytes.lf : ContentBytes.crlf
                lastWasCR = false
                return .content(ending)
            }
            active = false
            if isLast && lastWasCR { accounting.report.bareCarriageReturns += 1 }
            return .endOfChunk(last: isLast, report: accounting.report)
        }
        let available = min(remaining, buffer.readableBytes)
        guard available > 0 else { return .needMoreBytes }
        if discarding {
            buffer.moveReaderIndex(forwardBy: available)
            remaining -= available
            guard remaining == 0 else { return .needMoreBytes }
            active = false
            return .endOfChunk(last: isLast, report: accounting.report)
        }
        // Scan for statistics and, when normalizing, stop at a bare LF.
        var index = 0
        var stop: Int?
        buffer.withUnsafeReadableBytes { bytes in
            while index < available {
                let byte = bytes[index]
                if byte == ASCII.lf {
                    accounting.endLine(textLength: accounting.lineLength - (lastWasCR ? 1 : 0))
                    atLineStart = true
                    if !lastWasCR {
                        accounting.report.bareLineFeeds += 1
                        if normalizeLineEndings {
                            stop = index
                            index += 1
                            return
                        }
                    }
                    lastWasCR = false
                } else {
                    if lastWasCR { accounting.report.bareCarriageReturns += 1 }
                    lastWasCR = byte == ASCII.cr
                    if byte == ASCII.nul { accounting.report.nulOctets += 1 }
                    accounting.countLineOctet()
                    atLineStart = false
                }
                index += 1
            }
        }
        remaining -= index
        if let stop {
            let piece = stop > 0 ? buffer.getSlice(at: buffer.readerIndex, length: stop) : nil
            buffer.moveReaderIndex(forwardBy: index)
            if let piece {
                pending = ContentBytes.crlf
                return .content(piece)
            }
            return .content(ContentBytes.crlf)
        }
        let piece = buffer.readSlice(length: index)!
        return .content(piece)
    }
}
