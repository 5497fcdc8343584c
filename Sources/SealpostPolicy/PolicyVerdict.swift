import Logging

/// A reply the policy wants sent instead of accepting a command, formatted as Postfix's
/// `smtpd_check_reject()` formats it: `<code> <enhanced status> <text>`, at most 510 bytes, no
/// unprintable characters, the status class equal to the reply class.
public struct PolicyReply: Sendable, Hashable, CustomStringConvertible {
    /// The whole reply line, without CRLF.
    public let line: String

    init(line: String) {
        self.line = line
    }

    /// The three-digit reply code.
    public var code: Int { Int(line.prefix(3)) ?? 0 }
    /// The enhanced status code (`5.7.1`).
    public var enhancedStatus: String {
        let rest = line.dropFirst(4)
        return String(rest.prefix { $0 != " " })
    }
    /// The text after the enhanced status code.
    public var text: String {
        let rest = line.dropFirst(4)
        guard let space = rest.firstIndex(of: " ") else { return "" }
        return String(rest[rest.index(after: space)...])
    }
    /// Whether the reply is temporary (4xx).
    public var isTemporary: Bool { line.hasPrefix("4") }

    public var description: String { line }
}

/// A line the policy wants logged, in Postfix's words; the server's log handler adds the
/// `postfix/smtpd[pid]:` prefix and, for warnings, `warning:`.
public struct PolicyLogRecord: Sendable, Hashable, CustomStringConvertible {
    public var level: Logger.Level
    public var message: String

    public init(level: Logger.Level, message: String) {
        self.level = level
        self.message = message
    }

    public var description: String { level == .warning ? "warning: \(message)" : message }
}

/// The outcome of one policy check.
public struct PolicyVerdict: Sendable {
    /// The reply that refuses the command; nil when the command may go on.
    public var reply: PolicyReply?
    /// What to log, in order (rejections, reject_warning, WARN/INFO/HOLD/… actions, and
    /// configuration warnings).
    public var log: [PolicyLogRecord]
    /// An access table said HANGUP: close the connection without a reply.
    public var hangUp: Bool

    /// Whether the command may go on.
    public var isAccepted: Bool { reply == nil && !hangUp }

    init(reply: PolicyReply?, log: [PolicyLogRecord], hangUp: Bool = false) {
        self.reply = reply
        self.log = log
        self.hangUp = hangUp
    }

    /// An acceptance that logs nothing.
    static let accepted = PolicyVerdict(reply: nil, log: [])

    /// Writes the log records to `logger`.
    public func log(to logger: Logger) {
        for record in log {
            logger.log(level: record.level, "\(record.message)")
        }
    }
}
