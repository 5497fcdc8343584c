import NIOCore
import SMTPCore

/// The test message a source sends: headers naming the sender, the recipient and its sequence number, then body
/// lines of filler up to the requested size. Some body lines begin with a dot so dot-stuffing is exercised.
enum SourceMessage {
    /// The message as it is submitted (before dot-stuffing), with CRLF line ends, `size` octets long when `size`
    /// exceeds the headers (else just the headers and an empty body).
    static func content(size: Int, from: String, to: String, number: Int) -> ByteBuffer {
        var text = "From: <\(from)>\r\nTo: <\(to)>\r\nSubject: sealpost bench message \(number)\r\n"
        text += "Message-ID: <bench.\(number)@sealpost.invalid>\r\n\r\n"
        var buffer = ByteBuffer(string: text)
        var remaining = size - buffer.readableBytes
        var line = 0
        while remaining > 0 {
            // A full line is 78 octets plus CRLF; one octet is never left over for a line of its own, since a
            // lone LF would not be a line end (the encoder would make it CRLF and the size would be off).
            guard remaining >= 2 else { break }
            let length = remaining <= 80 ? remaining : (remaining == 81 ? 79 : 80)
            let fill = length - 2
            let lead: UInt8 = line % 10 == 9 ? UInt8(ascii: ".") : UInt8(ascii: "X")
            if fill > 0 {
                buffer.writeInteger(lead)
                buffer.writeRepeatingByte(UInt8(ascii: "X"), count: fill - 1)
            }
            buffer.writeString("\r\n")
            remaining -= length
            line += 1
        }
        return buffer
    }

    /// The DATA payload on the wire: dot-stuffed content and the terminating `.` line.
    static func wire(size: Int, from: String, to: String, number: Int) -> ByteBuffer {
        DataEncoder.encode(content(size: size, from: from, to: to, number: number))
    }
}
