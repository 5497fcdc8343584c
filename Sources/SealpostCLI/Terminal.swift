#if canImport(Glibc)
import Glibc
#endif

/// Writing to standard output and standard error without Foundation, unbuffered, so output and
/// diagnostics appear in the order they are written.
enum Terminal {
    /// Writes `text` to standard output as is.
    static func out(_ text: String) {
        writeAll(STDOUT_FILENO, text)
    }

    /// Writes `sealpost: severity: message` to standard error, as Postfix tools prefix theirs.
    static func diagnostic(_ severity: String, _ message: String, program: String = "sealpost") {
        writeAll(STDERR_FILENO, "\(program): \(severity): \(message)\n")
    }

    /// Writes `sealpost: message` to standard error (postsuper's per-message notes).
    static func note(_ message: String, program: String = "sealpost") {
        writeAll(STDERR_FILENO, "\(program): \(message)\n")
    }

    static func warning(_ message: String) { diagnostic("warning", message) }
    static func error(_ message: String) { diagnostic("error", message) }
    static func fatal(_ message: String) { diagnostic("fatal", message) }

    private static func writeAll(_ descriptor: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
