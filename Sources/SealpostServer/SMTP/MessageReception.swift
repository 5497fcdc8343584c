import NIOCore
import SealpostQueue

/// One message on its way into the queue: the queue file being written, and the header section
/// held back until its end so that missing `Message-ID:` and `Date:` headers can be added there
/// (as Postfix's cleanup does for submitted mail).
final class MessageReception {
    let writer: MessageWriter
    /// Whether missing Message-ID and Date headers are added.
    let addsMissingHeaders: Bool
    let hostname: String
    let arrival: Int
    /// `header_size_limit`: the octets kept of one header (0: no limit).
    let headerSizeLimit: Int

    private var headerSection: [UInt8] = []
    /// Octets of the current header so far, line ends not counted.
    private var headerLength = 0
    /// The current header reached the limit: the rest of it is dropped.
    private var truncatingHeader = false
    /// The current line is a continuation of a truncated header: dropped whole.
    private var droppingLine = false
    private var headersDone = false
    private var atLineStart = true
    private var sawMessageID = false
    private var sawDate = false
    private(set) var messageID: String?
    private(set) var size = 0
    private(set) var failure: QueueError?

    /// Header sections larger than this are written as they are, without added headers.
    static let maximumHeldHeaderBytes = 1 << 20

    init(writer: MessageWriter, addsMissingHeaders: Bool, hostname: String, arrival: Int, headerSizeLimit: Int = 0) {
        self.writer = writer
        self.headerSizeLimit = headerSizeLimit
        self.addsMissingHeaders = addsMissingHeaders
        self.hostname = hostname
        self.arrival = arrival
    }

    var queueID: QueueID { writer.id }

    /// Writes text that precedes the client's content (the Received header), CR LF terminated.
    func prepend(lines: [String]) {
        write(Array(lines.map { $0 + "\r\n" }.joined().utf8))
    }

    /// Takes a piece of the client's content, writing it from the client's buffer without copying
    /// it first (the header section is held back, whole lines at a time).
    func append(_ buffer: ByteBuffer) {
        guard failure == nil else { return }
        size += buffer.readableBytes
        buffer.withUnsafeReadableBytes { bytes in
            let held = headersDone ? 0 : holdHeaderLines(bytes)
            if held < bytes.count { write(UnsafeRawBufferPointer(rebasing: bytes[held...])) }
        }
    }

    /// Holds the header lines at the front of `bytes` back; returns how many octets it took (all
    /// of them, unless the header section ended or grew too large to hold).
    private func holdHeaderLines(_ bytes: UnsafeRawBufferPointer) -> Int {
        var index = 0
        while index < bytes.count && !headersDone {
            let first = bytes[index]
            if atLineStart && Self.isLineEnd(first) {
                // The empty line: the headers end here.
                finishHeaders()
                break
            }
            if atLineStart {
                let continues = first == UInt8(ascii: " ") || first == UInt8(ascii: "\t")
                if !continues {
                    noteHeader(startingAt: index, in: bytes)
                    headerLength = 0
                    truncatingHeader = false
                }
                droppingLine = continues && truncatingHeader
            }
            // The rest of the line, with its LF if it is in this piece.
            let rest = UnsafeRawBufferPointer(rebasing: bytes[index...])
            let lineEnd = rest.firstIndex(of: UInt8(ascii: "\n")).map { index + $0 + 1 } ?? bytes.count
            let piece = UnsafeRawBufferPointer(rebasing: bytes[index..<lineEnd])
            atLineStart = bytes[lineEnd - 1] == UInt8(ascii: "\n")
            index = lineEnd
            // Postfix's cleanup keeps header_size_limit octets of a header and discards the excess
            // (continuation lines included), so a 10 MB header line is stored as 100 kB.
            if droppingLine { continue }
            if headerSizeLimit == 0 || headerLength + piece.count <= headerSizeLimit {
                headerLength += piece.count - piece.lazy.filter(Self.isLineEnd).count
                headerSection.append(contentsOf: piece)
            } else {
                for byte in piece {
                    if !Self.isLineEnd(byte) {
                        if headerLength >= headerSizeLimit {
                            truncatingHeader = true
                            continue
                        }
                        headerLength += 1
                    }
                    headerSection.append(byte)
                }
            }
            if headerSection.count > Self.maximumHeldHeaderBytes {
                // Not a header section worth holding: write it out as it is.
                write(headerSection)
                headerSection = []
                headersDone = true
            }
        }
        return index
    }

    /// The content ended: writes what is held back and returns the writer for commit.
    func finish() -> MessageWriter {
        if !headersDone { finishHeaders() }
        return writer
    }

    func abort() {
        writer.abort()
    }

    private func noteHeader(startingAt index: Int, in bytes: UnsafeRawBufferPointer) {
        let name = bytes[index...].prefix(while: { $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") })
        // Only the lengths of "Date" and "Message-ID" need a closer look (no String for the others).
        guard name.count == 4 || name.count == 10 else { return }
        let lowered = String(decoding: name.prefix(16), as: UTF8.self).lowercased()
        switch lowered {
        case "message-id": sawMessageID = true
        case "date": sawDate = true
        default: break
        }
        if lowered == "message-id", messageID == nil {
            let line = bytes[index...].prefix(while: { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") })
            let value = String(decoding: line.dropFirst(name.count + 1), as: UTF8.self)
            messageID = value.trimmingCharacters(in: " \t")
        }
    }

    private static func isLineEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }

    private func finishHeaders() {
        headersDone = true
        write(headerSection)
        headerSection = []
        if addsMissingHeaders {
            var added: [String] = []
            if !sawMessageID {
                let id = "<\(Self.timestamp(arrival)).\(writer.id)@\(hostname)>"
                messageID = id
                added.append("Message-Id: \(id)")
            }
            if !sawDate { added.append("Date: \(MailDate.format(arrival))") }
            if !added.isEmpty { write(Array(added.map { $0 + "\r\n" }.joined().utf8)) }
        }
    }

    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    private func write(_ raw: UnsafeRawBufferPointer) {
        guard failure == nil, raw.count > 0 else { return }
        do {
            try writer.append(raw)
        } catch {
            failure = error
        }
    }

    /// `YYYYMMDDhhmmss` in UTC, as in Postfix's generated Message-IDs.
    static func timestamp(_ seconds: Int) -> String {
        var time = seconds
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, set.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

#if canImport(Glibc)
import Glibc
#endif
