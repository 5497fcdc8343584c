import Synchronization

/// Per-client connection counts and event rates, as Postfix's anvil(8) keeps them for smtpd:
/// simultaneous connections (`smtpd_client_connection_count_limit`) and, per
/// `anvil_rate_time_unit`, connections, messages, recipients, AUTH commands and new TLS sessions.
///
/// A rate counter starts its time unit with its first event and resets when the unit is over
/// (anvil's fixed windows). Clients matching `smtpd_client_event_limit_exceptions` are exempt.
public final class ClientLimiter: Sendable {
    /// The kinds of event anvil rates.
    public enum Event: Hashable, Sendable {
        case connection, message, recipient, authentication, newTLSSession
    }

    public struct Limits: Sendable, Hashable {
        public var concurrentConnections: Int
        public var rates: [Event: Int]
        /// Seconds per rate window.
        public var timeUnit: Int

        public init(concurrentConnections: Int, rates: [Event: Int], timeUnit: Int) {
            self.concurrentConnections = concurrentConnections
            self.rates = rates
            self.timeUnit = max(1, timeUnit)
        }
    }

    /// What `connect` and `admit` decided; a refusal carries anvil's count for the log line
    /// (`Connection rate limit exceeded: 61 from ...`): the connections including the refused one,
    /// or the events of the time unit including the refused one.
    public enum Admission: Hashable, Sendable {
        case admitted
        case refused(count: Int)
    }

    private struct Client {
        var connections = 0
        var windows: [Event: (start: Int, count: Int)] = [:]
    }

    public let limits: Limits
    private let isExempt: @Sendable (_ address: String, _ name: String) -> Bool
    private let now: @Sendable () -> Int
    private let clients = Mutex<[String: Client]>([:])

    public init(
        limits: Limits, isExempt: @escaping @Sendable (String, String) -> Bool,
        now: @escaping @Sendable () -> Int = { MailDate.now() }
    ) {
        self.limits = limits
        self.isExempt = isExempt
        self.now = now
    }

    /// Registers a new connection; refused when the client already has as many as allowed (the
    /// connection is refused with 421 and not counted).
    public func connect(address: String, name: String) -> Admission {
        let exempt = isExempt(address, name)
        return clients.withLock { clients in
            var client = clients[address] ?? Client()
            if !exempt && limits.concurrentConnections > 0 && client.connections >= limits.concurrentConnections {
                return .refused(count: client.connections + 1)
            }
            client.connections += 1
            clients[address] = client
            return .admitted
        }
    }

    /// The connection ended.
    public func disconnect(address: String) {
        clients.withLock { clients in
            guard var client = clients[address] else { return }
            client.connections -= 1
            if client.connections <= 0 && client.windows.isEmpty {
                clients[address] = nil
            } else {
                clients[address] = client
            }
        }
    }

    /// Counts one event; refused when it exceeds the client's rate. As in anvil, refused events
    /// count too: the log line says how hard the client kept trying.
    public func admit(_ event: Event, address: String, name: String) -> Admission {
        guard let limit = limits.rates[event], limit > 0, !isExempt(address, name) else { return .admitted }
        let time = now()
        return clients.withLock { clients in
            var client = clients[address] ?? Client()
            var window = client.windows[event] ?? (start: time, count: 0)
            if time - window.start >= limits.timeUnit { window = (start: time, count: 0) }
            window.count += 1
            client.windows[event] = window
            clients[address] = client
            return window.count <= limit ? .admitted : .refused(count: window.count)
        }
    }

    /// Whether the client is over the limit of `event` already, without counting one more
    /// (anvil's `newtls_status` query); false when the event has no limit or the client is exempt.
    public func isOverLimit(_ event: Event, address: String, name: String) -> Bool {
        guard let limit = limits.rates[event], limit > 0, !isExempt(address, name) else { return false }
        let time = now()
        return clients.withLock { clients in
            guard let window = clients[address]?.windows[event], time - window.start < limits.timeUnit else { return false }
            return window.count > limit
        }
    }

    /// Forgets rate windows that are over, for clients without connections.
    public func prune() {
        let time = now()
        clients.withLock { clients in
            for (address, var client) in clients {
                client.windows = client.windows.filter { time - $0.value.start < limits.timeUnit }
                clients[address] = client.connections == 0 && client.windows.isEmpty ? nil : client
            }
        }
    }
}
