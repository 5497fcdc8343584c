import Logging

/// A swift-log handler that writes lines in Postfix's format, so that pflogsumm, fail2ban and an
/// administrator's grep habits work unchanged:
///
///     Nov 29 10:50:22 mx postfix/submission/smtpd[4242]: warning: text
///
/// The program name is `syslog_name/process` (Postfix's `$syslog_name/$process_name`); the host is
/// the first label of `myhostname`. Info and notice messages carry no severity word; warnings,
/// errors and critical messages get `warning:`, `error:` and `fatal:` as in Postfix. Debug and
/// trace messages appear only when the logger's level allows them (verbose logging).
public struct PostfixLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    private let sink: LogSink
    private let programName: String

    /// - Parameters:
    ///   - programName: `syslog_name/process`, e.g. `postfix/smtpd`.
    public init(sink: LogSink, programName: String) {
        self.sink = sink
        self.programName = programName
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = "\(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if !merged.isEmpty {
            text += " (" + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")"
        }
        sink.write(PostfixLogLine.format(
            date: sink.clock(), hostname: sink.hostname, programName: programName, processID: sink.processID,
            severity: PostfixLogLine.severityWord(for: event.level), text: text))
    }
}

/// Formats one log line the way Postfix's `msg_logger` does.
public enum PostfixLogLine {
    /// The word Postfix puts before the text for a level, or nil for plain information.
    public static func severityWord(for level: Logger.Level) -> String? {
        switch level {
        case .trace, .debug, .info, .notice: nil
        case .warning: "warning"
        case .error: "error"
        case .critical: "fatal"
        }
    }

    /// `Mmm dd HH:MM:SS host program[pid]: [severity: ]text`, one line (newlines in the text
    /// become spaces so a message can never forge a second log line).
    public static func format(
        date: LogTimestamp, hostname: String, programName: String, processID: Int32, severity: String?,
        text: String
    ) -> String {
        let host = hostname.split(separator: ".", maxSplits: 1).first.map(String.init) ?? hostname
        var safe = text
        if safe.contains(where: { $0.isNewline }) {
            safe = String(safe.map { $0.isNewline ? " " : $0 })
        }
        let prefix = severity.map { "\($0): " } ?? ""
        return "\(date.text) \(host) \(programName)[\(processID)]: \(prefix)\(safe)\n"
    }
}
