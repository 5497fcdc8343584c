import SealpostConfig
import SealpostLog

#if canImport(Glibc)
import Glibc
#endif

/// Chooses where the log goes from `maillog_file`, `maillog_file_prefixes` and
/// `maillog_file_permissions`, as Postfix's postlogd does.
enum LogDestination {
    static func sink(for configuration: Configuration) throws(LogDestinationError) -> LogSink {
        let settings = configuration.global
        let path = settings.string("maillog_file")
        let hostname = settings.string("myhostname")
        guard !path.isEmpty else {
            return try open(.standardError, hostname: hostname)
        }
        let prefixes = settings.list("maillog_file_prefixes")
        guard prefixes.contains(where: { path.hasPrefix($0) }) else {
            throw LogDestinationError(
                message: "maillog_file = \(path): the path does not start with one of maillog_file_prefixes (\(prefixes.joined(separator: ", ")))")
        }
        let permissionsText = settings.string("maillog_file_permissions")
        guard let permissions = mode_t(permissionsText, radix: 8), permissions & ~0o666 == 0 else {
            throw LogDestinationError(message: "maillog_file_permissions = \(permissionsText): expected 0600 or 0644")
        }
        return try open(.file(path: path, permissions: permissions), hostname: hostname)
    }

    private static func open(_ destination: LogSink.Destination, hostname: String) throws(LogDestinationError) -> LogSink {
        do {
            return try LogSink(destination: destination, hostname: hostname)
        } catch {
            throw LogDestinationError(message: error.description)
        }
    }
}

struct LogDestinationError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
