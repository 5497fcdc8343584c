import Synchronization

/// The sink's totals, shared by every connection's event loop and the reporting task.
final class SinkCounters: Sendable {
    /// The totals at one moment.
    struct Snapshot: Equatable, Sendable, CustomStringConvertible {
        var sessions = 0
        var messages = 0
        var recipients = 0
        /// Message content octets received, after dot-stuffing was removed (rejected messages included).
        var bytes = 0
        var tlsSessions = 0
        /// 4xx and 5xx replies sent (injected ones included), failed TLS handshakes, connection errors.
        var errors = 0

        /// One line, stable so that scripts can parse it.
        var description: String {
            "sessions=\(sessions) messages=\(messages) recipients=\(recipients) bytes=\(bytes) tls=\(tlsSessions) errors=\(errors)"
        }
    }

    private let totals = Mutex(Snapshot())
    /// Sessions open now, for `--max-sessions`.
    private let open = Mutex(0)

    var snapshot: Snapshot { totals.withLock { $0 } }

    func update(_ change: (inout Snapshot) -> Void) {
        totals.withLock { change(&$0) }
    }

    /// Counts a new session; false when `limit` sessions are open already (the session is then not counted).
    func openSession(limit: Int?) -> Bool {
        let admitted = open.withLock { count in
            if let limit, count >= limit { return false }
            count += 1
            return true
        }
        if admitted { update { $0.sessions += 1 } }
        return admitted
    }

    func closeSession() {
        open.withLock { $0 -= 1 }
    }
}
