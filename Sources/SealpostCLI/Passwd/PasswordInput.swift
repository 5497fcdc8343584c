import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// The new password for `sealpost passwd add`: on a terminal, asked twice without echo; otherwise
/// the first line of standard input.
enum PasswordInput {
    /// Longer input is refused rather than cut.
    static let maximumLength = 4096

    static func read() throws -> [UInt8] {
        if isatty(STDIN_FILENO) == 1 {
            var first = try prompt("New password: ")
            defer { first.resetBytes(in: 0..<first.count) }
            var second = try prompt("Retype new password: ")
            defer { second.resetBytes(in: 0..<second.count) }
            guard first == second else { throw failure("the passwords differ") }
            return try checked(first)
        }
        guard let line = try readLine(from: STDIN_FILENO) else { throw failure("no password on standard input") }
        return try checked(line)
    }

    private static func checked(_ password: [UInt8]) throws -> [UInt8] {
        if password.isEmpty { throw failure("the password is empty") }
        if password.contains(0) { throw failure("the password contains a NUL character") }
        return password
    }

    /// Turns echo off, asks on standard error, and reads a line from the terminal. Input typed
    /// before the prompt is discarded (as getpass does), so nothing typed is ever echoed.
    private static func prompt(_ text: String) throws -> [UInt8] {
        var saved = termios()
        let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        defer {
            if haveTerminal { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
            writeError("\n")
        }
        writeError(text)
        guard let line = try readLine(from: STDIN_FILENO) else { throw failure("no password entered") }
        return line
    }

    /// One line without its LF (or CRLF); nil at end of input before any byte.
    private static func readLine(from descriptor: Int32) throws -> [UInt8]? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = Glibc.read(descriptor, &byte, 1)
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read the password: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return line.isEmpty ? nil : line }
            if byte == 0x0A { break }
            line.append(byte)
            if line.count > maximumLength {
                line.resetBytes(in: 0..<line.count)
                throw failure("the password is longer than \(maximumLength) bytes")
            }
        }
        if line.last == 0x0D { line.removeLast() }
        return line
    }

    private static func writeError(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    private static func failure(_ message: String) -> ExitCode {
        Terminal.fatal(message)
        return ExitCode(1)
    }
}

extension Array where Element == UInt8 {
    /// Overwrites the bytes with zeros (best effort: earlier copies are beyond reach).
    mutating func resetBytes(in range: Range<Int>) {
        for index in range { self[index] = 0 }
    }
}
