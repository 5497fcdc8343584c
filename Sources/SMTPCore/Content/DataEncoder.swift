import NIOCore

/// Prepares message content for sending: every line ending becomes CR LF (a bare LF, a bare CR and CR LF
/// each end one line), and for DATA a line starting with `.` gets another `.` and the message ends with
/// `.` CR LF. The SMTP client can therefore never send a bare CR or LF, nor end the data early: it is no
/// SMTP smuggling source, whatever the message holds.
public struct DataEncoder: Sendable {
    /// DATA (dot-stuffing and the end-of-data line) or BDAT (line endings only).
    public enum Mode: Hashable, Sendable {
        case data
        case bdat
    }

    public let mode: Mode
    private var atLineStart = true
    private var pendingCR = false

    public init(mode: Mode = .data) {
        self.mode = mode
    }

    /// Encodes the next part of the content into `output`.
    public mutating func encode(_ content: ByteBuffer, into output: inout ByteBuffer) {
        output.reserveCapacity(minimumWritableBytes: content.readableBytes + content.readableBytes / 64 + 4)
        var run: [UInt8] = []
        run.reserveCapacity(content.readableBytes + 8)
        for byte in content.readableBytesView {
            if pendingCR {
                pendingCR = false
                run.append(ASCII.cr)
                run.append(ASCII.lf)
                atLineStart = true
                if byte == ASCII.lf { continue }
            }
            switch byte {
            case ASCII.cr:
                pendingCR = true
            case ASCII.lf:
                run.append(ASCII.cr)
                run.append(ASCII.lf)
                atLineStart = true
            default:
                if atLineStart && byte == ASCII.dot && mode == .data { run.append(ASCII.dot) }
                run.append(byte)
                atLineStart = false
            }
        }
        output.writeBytes(run)
    }

    /// Ends the content: a final CR LF when the last line had none, then `.` CR LF for DATA.
    public mutating func finish(into output: inout ByteBuffer) {
        if pendingCR || !atLineStart {
            output.writeInteger(ASCII.cr)
            output.writeInteger(ASCII.lf)
        }
        pendingCR = false
        atLineStart = true
        if mode == .data {
            output.writeInteger(ASCII.dot)
            output.writeInteger(ASCII.cr)
            output.writeInteger(ASCII.lf)
        }
    }

    /// A whole message encoded in one go.
    public static func encode(_ content: ByteBuffer, mode: Mode = .data) -> ByteBuffer {
        var encoder = DataEncoder(mode: mode)
        var output = ByteBuffer()
        encoder.encode(content, into: &output)
        encoder.finish(into: &output)
        return output
    }
}
