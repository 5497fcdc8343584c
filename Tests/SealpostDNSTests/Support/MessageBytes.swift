/// Writes DNS messages byte by byte for fixtures, independently of the encoder under test.
struct MessageBytes {
    var bytes: [UInt8] = []

    init() {}

    /// A response header: QR and RD and RA set, plus `flags`, with the given counts.
    init(
        id: UInt16, flags: UInt16 = 0, responseCode: UInt8 = 0, questions: UInt16 = 1, answers: UInt16 = 0,
        authority: UInt16 = 0, additional: UInt16 = 0
    ) {
        word(id)
        word(0x8180 | flags | UInt16(responseCode))
        for count in [questions, answers, authority, additional] { word(count) }
    }

    mutating func word(_ value: UInt16) {
        bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    mutating func long(_ value: UInt32) {
        word(UInt16(value >> 16))
        word(UInt16(value & 0xFFFF))
    }

    /// An uncompressed name; "" is the root.
    mutating func name(_ text: String) {
        for label in text.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes += Array(label.utf8)
        }
        bytes.append(0)
    }

    /// A compression pointer to `offset`.
    mutating func pointer(_ offset: Int) {
        word(0xC000 | UInt16(offset))
    }

    mutating func question(_ text: String, type: UInt16) {
        name(text)
        word(type)
        word(1)
    }

    /// The fixed part of a record after its owner name.
    mutating func recordHeader(type: UInt16, ttl: UInt32 = 300, length: Int) {
        word(type)
        word(1)
        long(ttl)
        word(UInt16(length))
    }
}
