/// Little-endian encoding into a growing byte array: the queue file's fixed-width fields and
/// length-prefixed strings.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    mutating func append(_ value: UInt8) { bytes.append(value) }

    mutating func append(_ value: UInt16) { appendLittleEndian(UInt64(value), width: 2) }

    mutating func append(_ value: UInt32) { appendLittleEndian(UInt64(value), width: 4) }

    mutating func append(_ value: UInt64) { appendLittleEndian(value, width: 8) }

    mutating func append(_ value: Int64) { appendLittleEndian(UInt64(bitPattern: value), width: 8) }

    mutating func append(bytes other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    /// A string as a 32-bit length and its UTF-8 bytes.
    mutating func append(string: String) {
        var text = string
        text.withUTF8 { utf8 in
            append(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// An optional string: a presence byte, then the string.
    mutating func append(optional string: String?) {
        if let string {
            append(UInt8(1))
            append(string: string)
        } else {
            append(UInt8(0))
        }
    }

    /// Overwrites a 32-bit field written earlier (a length known only later).
    mutating func patch(_ value: UInt32, at offset: Int) {
        for shift in 0..<4 { bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (8 * shift)) }
    }

    private mutating func appendLittleEndian(_ value: UInt64, width: Int) {
        for shift in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
    }
}

/// Decoding of what `ByteWriter` wrote; every read is bounds-checked and reports a malformed
/// field instead of trapping.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var isAtEnd: Bool { position == bytes.endIndex }
    var remaining: Int { bytes.endIndex - position }

    mutating func readUInt8() throws(FormatProblem) -> UInt8 {
        UInt8(try readLittleEndian(width: 1))
    }

    mutating func readUInt16() throws(FormatProblem) -> UInt16 {
        UInt16(try readLittleEndian(width: 2))
    }

    mutating func readUInt32() throws(FormatProblem) -> UInt32 {
        UInt32(try readLittleEndian(width: 4))
    }

    mutating func readUInt64() throws(FormatProblem) -> UInt64 {
        try readLittleEndian(width: 8)
    }

    mutating func readInt64() throws(FormatProblem) -> Int64 {
        Int64(bitPattern: try readLittleEndian(width: 8))
    }

    mutating func readBytes(_ count: Int) throws(FormatProblem) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw FormatProblem("field runs past the end of its record") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func readRest() -> ArraySlice<UInt8> {
        defer { position = bytes.endIndex }
        return bytes[position...]
    }

    /// A string written by `append(string:)`; it must be valid UTF-8.
    mutating func readString() throws(FormatProblem) -> String {
        let length = Int(try readUInt32())
        return try Self.utf8(try readBytes(length))
    }

    mutating func readOptionalString() throws(FormatProblem) -> String? {
        switch try readUInt8() {
        case 0: return nil
        case 1: return try readString()
        case let other: throw FormatProblem("bad presence flag \(other)")
        }
    }

    static func utf8(_ bytes: ArraySlice<UInt8>) throws(FormatProblem) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw FormatProblem("string is not valid UTF-8") }
        return text
    }

    private mutating func readLittleEndian(width: Int) throws(FormatProblem) -> UInt64 {
        guard remaining >= width else { throw FormatProblem("field runs past the end of its record") }
        var value: UInt64 = 0
        for shift in 0..<width { value |= UInt64(bytes[position + shift]) << (8 * shift) }
        position += width
        return value
    }
}

/// Why bytes on disk are not a valid queue file; becomes the reason a file is quarantined.
struct FormatProblem: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
