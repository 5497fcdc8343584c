import NIOCore
import SMTPCore

/// The test message a source sends: headers naming the sender, the recipient and the message's sequence number,
/// then body lines of filler up to the requested size. Every tenth body line begins with a dot, so dot-stuffing
/// is exercised. The body is encoded once and shared; only the headers are made per message.
struct SourceMessage: Sendable {
    private let from: String
    private let to: String
    /// The dot-stuffed body and the terminating `.` line, as sent after the headers.
    private let encodedBody: ByteBuffer

    /// `size` is the message's length in octets as submitted (before dot-stuffing), headers included; a size
    /// below the headers' length gives the headers and an empty body.
    init(size: Int, from: String, to: String) {
        self.from = from
        self.to = to
        // The sequence number is zero-padded, so every message's headers have the same length.
        var remaining = size - Self.headers(number: 0, from: from, to: to).utf8.count
        var body = ByteBuffer()
        var line = 0
        while remaining >= 2 {
            // A full line is 78 octets plus CRLF; no single octet is left for a line of its own, since a lone
            // LF is no line end (the encoder would make it CRLF and the size would be off by one).
            let length = remaining <= 80 ? remaining : (remaining == 81 ? 79 : 80)
            let fill = length - 2
            if fill > 0 {
                body.writeInteger(line % 10 == 9 ? UInt8(ascii: ".") : UInt8(ascii: "X"))
                body.writeRepeatingByte(UInt8(ascii: "X"), count: fill - 1)
            }
            body.writeString("\r\n")
            remaining -= length
            line += 1
        }
        encodedBody = DataEncoder.encode(body)
    }

    /// The whole DATA payload of message `number`, ready for the wire.
    func wire(number: Int) -> ByteBuffer {
        var buffer = ByteBuffer(string: Self.headers(number: number, from: from, to: to))
        var body = encodedBody
        buffer.writeBuffer(&body)
        return buffer
    }

    /// The headers and the empty line after them. Nothing here starts with a dot, so they need no stuffing.
    private static func headers(number: Int, from: String, to: String) -> String {
        let digits = String(number)
        let padded = String(repeating: "0", count: max(10 - digits.count, 0)) + digits
        return "From: <\(from)>\r\nTo: <\(to)>\r\nSubject: sealpost bench message \(padded)\r\n"
            + "Message-ID: <bench.\(padded)@sealpost.invalid>\r\n\r\n"
    }
}
