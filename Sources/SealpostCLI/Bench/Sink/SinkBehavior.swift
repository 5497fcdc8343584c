/// What the sink does besides accepting everything: injected failures, delays, STARTTLS.
struct SinkBehavior: Sendable {
    /// The names `--fail` and `--delay` accept: the command verbs, `CONNECT` for the greeting and `.` for
    /// the end of message content (smtp-sink(1) uses the same names).
    static let commandNames: Set<String> = ["CONNECT", "EHLO", "HELO", "MAIL", "RCPT", "DATA", ".", "RSET", "NOOP", "QUIT", "STARTTLS"]

    /// Reply code (4xx or 5xx) per command name, instead of the normal reply.
    var failures: [String: Int] = [:]
    /// Milliseconds to wait before replying, per command name.
    var delays: [String: Int] = [:]
    /// A certificate is loaded: EHLO announces STARTTLS.
    var offersStartTLS = false
    /// The message size limit announced with SIZE and enforced on DATA.
    var messageSizeLimit = 10_240_000

    /// Parses `COMMAND=VALUE`, the form of `--fail` and `--delay`, checking the command name.
    static func assignment(_ text: String, option: String) throws(SinkArgumentError) -> (command: String, value: Int) {
        guard let equals = text.firstIndex(of: "=") else {
            throw SinkArgumentError("\(option) \(text): expected COMMAND=NUMBER")
        }
        let command = text[..<equals].uppercased()
        guard commandNames.contains(command) else {
            throw SinkArgumentError(
                "\(option) \(text): unknown command \(command); expected one of \(commandNames.sorted().joined(separator: ", "))")
        }
        guard let value = Int(text[text.index(after: equals)...]), value >= 0 else {
            throw SinkArgumentError("\(option) \(text): expected a non-negative number after =")
        }
        return (command, value)
    }
}

/// A bad command-line argument of `sealpost bench sink`.
struct SinkArgumentError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
