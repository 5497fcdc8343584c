import NIOCore
import SMTPCore

/// Prepares queued content for DATA: folds lines longer than `smtp_line_length_limit` by inserting
/// CR LF SPACE (as Postfix does, to limit the damage to MIME), then dot-stuffs and normalises line
/// ends with SMTPCore's ``DataEncoder`` — so no bare CR or LF and no early end of data can leave us,
/// whatever the queue file holds.
struct SMTPContentEncoder {
    private var dataEncoder = DataEncoder(mode: .data)
    private let lineLengthLimit: Int
    private var column = 0

    /// `lineLengthLimit` 0 turns folding off.
    init(lineLengthLimit: Int) {
        self.lineLengthLimit = lineLengthLimit
    }

    mutating func encode(_ chunk: [UInt8], into output: inout ByteBuffer) {
        var folded = ByteBuffer()
        folded.reserveCapacity(chunk.count + 16)
        if lineLengthLimit <= 0 {
            folded.writeBytes(chunk)
        } else {
            for byte in chunk {
                if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                    column = 0
                } else {
                    if column >= lineLengthLimit {
                        folded.writeBytes([UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: " ")])
                        column = 1
                    }
                    column += 1
                }
                folded.writeInteger(byte)
            }
        }
        dataEncoder.encode(folded, into: &output)
    }

    /// The end of the content: a missing final line end and the `.` line.
    mutating func finish(into output: inout ByteBuffer) {
        dataEncoder.finish(into: &output)
    }
}
