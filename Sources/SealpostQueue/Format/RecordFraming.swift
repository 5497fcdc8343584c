/// The record types of a queue file. Types with the high bit set are optional: a reader that
/// does not know one skips it, so later versions can add information without a new format
/// version. An unknown type without that bit makes the file unreadable for this version.
///
/// Payloads (integers little-endian; `str` is a u32 length and UTF-8 bytes; `opt` a presence byte
/// 0/1 followed by the value; times are i64 microseconds since the epoch; `idx` is a u32 count
/// followed by that many u32 recipient indexes):
///
///     arrival        i64 time                    sender         UTF-8 address ("" = <>)
///     attribute      u16 name length, name, value (client_name, client_address, client_port,
///                    helo_name, protocol_name, sasl_method, sasl_username, sasl_sender,
///                    tls_summary, milter_macro_daemon_name, and any other name)
///     envelopeID     UTF-8 ENVID                 returnContent  u8 1 FULL, 2 HDRS
///     bodyType       u8 1 7BIT, 2 8BITMIME, 3 BINARYMIME
///     smtputf8       u8 1                        declaredSize   u64 SIZE=
///     recipient      u8 NOTIFY bits (1 SUCCESS, 2 FAILURE, 4 DELAY, 8 NEVER), str address,
///                    opt str original address, opt str ORCPT
///     envelopeEnd    u32 recipient count
///     contentChunk   content bytes               contentEnd     u64 length, u32 CRC-32C
///     outcome        u8 1 delivered/2 bounced/3 deferred, u8 DSN action, i64 retry time,
///                    i64 time, str status, str reason, opt str remote MTA, idx
///     notified       u8 kinds (1 success, 2 failure, 4 delay), i64 time, idx
///     snapshot       u32 index, u8 status, u32 attempts, opt i64 last attempt, opt i64 next
///                    attempt, opt str status, opt str reason, opt str remote MTA, u8 action, u8 notified
enum RecordType: UInt8, Sendable {
    // Envelope, in this order: arrival and sender first, envelope end last.
    case arrival = 0x01
    case sender = 0x02
    case attribute = 0x03
    case envelopeID = 0x04
    case returnContent = 0x05
    case bodyType = 0x06
    case smtputf8 = 0x07
    case declaredSize = 0x08
    case recipient = 0x09
    case envelopeEnd = 0x0F
    // Content: the message as received, in chunks, then its total length and checksum.
    case contentChunk = 0x20
    case contentEnd = 0x21
    // State journal, appended after the content.
    case outcome = 0x30
    case notified = 0x31
    case snapshot = 0x32

    static let optionalBit: UInt8 = 0x80
}

/// Every record is `length (u32 LE) | type (u8) | payload | CRC-32C (u32 LE)`, the checksum
/// covering length, type and payload. A record is valid only when complete and its checksum
/// matches, so a torn write, a zero-filled tail or a flipped bit is detected at the record it hit.
enum RecordFraming {
    static let headerSize = 5
    static let trailerSize = 4
    static let overhead = headerSize + trailerSize
    /// No record is larger; a length field beyond it is corruption, never an allocation.
    static let maximumPayload = 16 << 20

    /// Appends one record whose payload `body` writes.
    static func append(_ type: RecordType, to writer: inout ByteWriter, body: (inout ByteWriter) -> Void) {
        let start = writer.count
        writer.append(UInt32(0))
        writer.append(type.rawValue)
        body(&writer)
        seal(from: start, in: &writer)
    }

    /// Fills in the length of the record that starts at `start` and appends its checksum.
    static func seal(from start: Int, in writer: inout ByteWriter) {
        writer.patch(UInt32(writer.count - start - headerSize), at: start)
        let checksum = CRC32C.checksum(writer.bytes[start...])
        writer.append(checksum)
    }

    enum Parsed: Equatable {
        /// A valid record: its type byte, where its payload lies, and where the next record starts.
        case record(type: UInt8, payload: Range<Int>, next: Int)
        /// The bytes end inside the record.
        case incomplete
        /// The record is complete but damaged.
        case invalid(String)
    }

    /// The record at `offset` of `bytes` (indexes are those of `bytes`).
    static func parse(_ bytes: ArraySlice<UInt8>, at offset: Int) -> Parsed {
        guard bytes.endIndex - offset >= headerSize else { return .incomplete }
        let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16
            | Int(bytes[offset + 3]) << 24
        guard length <= maximumPayload else { return .invalid("record length \(length) is out of range") }
        let end = offset + headerSize + length + trailerSize
        guard bytes.endIndex >= end else { return .incomplete }
        let stored = UInt32(bytes[end - 4]) | UInt32(bytes[end - 3]) << 8 | UInt32(bytes[end - 2]) << 16
            | UInt32(bytes[end - 1]) << 24
        guard CRC32C.checksum(bytes[offset..<(end - trailerSize)]) == stored else {
            return .invalid("record checksum mismatch")
        }
        return .record(type: bytes[offset + 4], payload: (offset + headerSize)..<(end - trailerSize), next: end)
    }
}

/// The fixed 64-byte header at the start of every queue file.
///
///     0  magic "\x89SPQ\r\n\x1a\n"    8  format version (u16)   10 header size (u16)
///     12 flags (u32, bit 0 sealed)   16 content offset (u64)   24 journal offset (u64)
///     32 content length (u64)        40 content CRC-32C (u32)  44 recipient count (u32)
///     48 reserved (12 bytes, zero)   60 header CRC-32C (u32) over bytes 0..<60
///
/// The envelope records start at 64 and end at the content offset; the content records end with
/// the content-end record at the journal offset; the state journal runs from there to the end of
/// the file. The writer fills the header in before the file's first fsync, so a committed file's
/// header never changes again.
struct FileHeader: Sendable, Equatable {
    static let size = 64
    static let magic: [UInt8] = [0x89, 0x53, 0x50, 0x51, 0x0D, 0x0A, 0x1A, 0x0A]
    static let currentVersion: UInt16 = 1
    static let sealedFlag: UInt32 = 1

    var sealed: Bool
    var contentOffset: UInt64
    var journalOffset: UInt64
    var contentLength: UInt64
    var contentChecksum: UInt32
    var recipientCount: UInt32

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        writer.append(bytes: Self.magic)
        writer.append(Self.currentVersion)
        writer.append(UInt16(Self.size))
        writer.append(sealed ? Self.sealedFlag : 0)
        writer.append(contentOffset)
        writer.append(journalOffset)
        writer.append(contentLength)
        writer.append(contentChecksum)
        writer.append(recipientCount)
        writer.append(bytes: repeatElement(0, count: 12))
        writer.append(CRC32C.checksum(writer.bytes[...]))
        return writer.bytes
    }

    static func decode(_ bytes: ArraySlice<UInt8>) throws(FormatProblem) -> FileHeader {
        guard bytes.count >= size else { throw FormatProblem("file is shorter than its header") }
        let header = bytes.prefix(size)
        guard header.prefix(8).elementsEqual(magic) else { throw FormatProblem("not a Sealpost queue file (bad magic)") }
        var reader = ByteReader(header.dropFirst(8))
        let version = try reader.readUInt16()
        let headerSize = try reader.readUInt16()
        let flags = try reader.readUInt32()
        let contentOffset = try reader.readUInt64()
        let journalOffset = try reader.readUInt64()
        let contentLength = try reader.readUInt64()
        let contentChecksum = try reader.readUInt32()
        let recipientCount = try reader.readUInt32()
        _ = try reader.readBytes(12)
        let stored = try reader.readUInt32()
        guard CRC32C.checksum(header.prefix(60)) == stored else { throw FormatProblem("header checksum mismatch") }
        guard version == currentVersion else { throw FormatProblem("unsupported queue file format version \(version)") }
        guard headerSize == size else { throw FormatProblem("unexpected header size \(headerSize)") }
        guard contentOffset >= UInt64(size), journalOffset >= contentOffset else {
            throw FormatProblem("header offsets out of order")
        }
        return FileHeader(
            sealed: flags & sealedFlag != 0, contentOffset: contentOffset, journalOffset: journalOffset,
            contentLength: contentLength, contentChecksum: contentChecksum, recipientCount: recipientCount)
    }
}
