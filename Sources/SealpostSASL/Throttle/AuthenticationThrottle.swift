import SealpostConfig
import Synchronization

/// Brute-force protection for AUTH, per client address and across sessions, as a plain state
/// machine: every method takes the current time, so tests need no clock and no sleeping.
///
/// - **AUTH command rate** (`smtpd_client_auth_rate_limit`, with anvil's semantics): AUTH commands
///   are counted per client in a window of `anvil_rate_time_unit` that starts with the first one
///   and restarts once it has passed; a command that brings the count over the limit is refused
///   with `450 4.7.1 Error: too many AUTH commands from <address>` (it still counts, as in anvil).
///   0 means no limit.
/// - **Failed logins** (a Sealpost addition; Postfix leaves this to fail2ban): the reply to the
///   k-th failed login from a client within `failureWindow` waits k × `smtpd_error_sleep_time`
///   (at most 10 ×), the delay Postfix's smtpd puts before error replies. At `failureLimit`
///   failures the session is cut off (`421 4.7.0 <host> Error: too many errors`, then hang up), and
///   AUTH from that client is refused the same way until its failures age out of the window.
///
/// Memory is bounded: at most `maximumClients` clients are remembered, the stalest forgotten first.
public struct AuthenticationThrottle: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public struct Policy: Sendable, Hashable {
        /// `smtpd_client_auth_rate_limit`: AUTH commands per client per `rateTimeUnit`; 0 = no limit.
        public var authCommandRateLimit: Int
        /// `anvil_rate_time_unit`.
        public var rateTimeUnit: Duration
        /// `smtpd_error_sleep_time`: the unit of the delay before a failed login's reply.
        public var failureDelay: Duration
        /// Failed logins within `failureWindow` after which a client is cut off; 0 = never.
        public var failureLimit: Int
        /// How long a failed login counts against its client.
        public var failureWindow: Duration
        /// The most clients remembered.
        public var maximumClients: Int

        public init(
            authCommandRateLimit: Int = 0, rateTimeUnit: Duration = .seconds(60), failureDelay: Duration = .seconds(1),
            failureLimit: Int = 10, failureWindow: Duration = .seconds(600), maximumClients: Int = 100_000
        ) {
            self.authCommandRateLimit = authCommandRateLimit
            self.rateTimeUnit = rateTimeUnit
            self.failureDelay = failureDelay
            self.failureLimit = failureLimit
            self.failureWindow = failureWindow
            self.maximumClients = maximumClients
        }

        /// The policy of a service: `smtpd_client_auth_rate_limit`, `anvil_rate_time_unit`,
        /// `smtpd_error_sleep_time`, and the Sealpost extensions `smtpd_client_auth_failure_limit`
        /// and `smtpd_client_auth_failure_window` when the catalogue has them (else 10 and 10m).
        public init(configuration: ServiceConfiguration) {
            self.init(
                authCommandRateLimit: configuration.integer("smtpd_client_auth_rate_limit"),
                rateTimeUnit: .seconds(configuration.seconds("anvil_rate_time_unit")),
                failureDelay: .seconds(configuration.seconds("smtpd_error_sleep_time")))
            if configuration.values["smtpd_client_auth_failure_limit"] != nil {
                failureLimit = configuration.integer("smtpd_client_auth_failure_limit")
            }
            if configuration.values["smtpd_client_auth_failure_window"] != nil {
                failureWindow = .seconds(configuration.seconds("smtpd_client_auth_failure_window"))
            }
        }
    }

    public enum CommandDecision: Sendable, Hashable {
        /// Run the AUTH command.
        case proceed
        /// Over `smtpd_client_auth_rate_limit`: reply ``SASLReply/tooManyAuthCommands(from:)``
        /// (count it as an error of the session) and keep the session. `count` is the rate, for
        /// Postfix's log line `AUTH command rate limit exceeded: <count> from <client> for service <name>`.
        case rateLimited(count: Int)
        /// Too many failed logins: reply ``SASLReply/tooManyErrors(hostname:)`` and hang up. The
        /// block lifts after `retryAfter`.
        case blocked(retryAfter: Duration)
    }

    public enum FailureDecision: Sendable, Hashable {
        /// Wait `delay`, then send the failure reply.
        case delay(Duration)
        /// Wait `delay`, send the failure reply, then ``SASLReply/tooManyErrors(hostname:)`` and hang up.
        case cutOff(delay: Duration)
    }

    private struct Client {
        var rateWindowStart: Instant
        var authCommands = 0
        /// The most recent failed logins, oldest first, at most `failureLimit` of them.
        var failures: [Instant] = []
        var lastSeen: Instant
    }

    public var policy: Policy
    private var clients: [String: Client] = [:]

    public init(policy: Policy) {
        self.policy = policy
    }

    /// How many clients are remembered.
    public var trackedClients: Int { clients.count }

    /// An AUTH command from `client` (its address) arrives.
    public mutating func authCommand(from client: String, at now: Instant) -> CommandDecision {
        var record = clients[client] ?? Client(rateWindowStart: now, lastSeen: now)
        record.lastSeen = now
        forgetExpiredFailures(&record, now: now)
        defer {
            clients[client] = record
            pruneIfNeeded(now: now)
        }
        if policy.failureLimit > 0, record.failures.count >= policy.failureLimit, let oldest = record.failures.first {
            return .blocked(retryAfter: oldest + policy.failureWindow - now)
        }
        // anvil.c ANVIL_REMOTE_INCR_RATE: restart the window once start + unit < now, then count.
        if record.rateWindowStart + policy.rateTimeUnit < now {
            record.rateWindowStart = now
            record.authCommands = 0
        }
        if record.authCommands < Int.max { record.authCommands += 1 }
        if policy.authCommandRateLimit > 0, record.authCommands > policy.authCommandRateLimit {
            return .rateLimited(count: record.authCommands)
        }
        return .proceed
    }

    /// A login from `client` failed (``AuthenticationResult/isFailedLogin``).
    public mutating func failedLogin(from client: String, at now: Instant) -> FailureDecision {
        var record = clients[client] ?? Client(rateWindowStart: now, lastSeen: now)
        record.lastSeen = now
        forgetExpiredFailures(&record, now: now)
        record.failures.append(now)
        if policy.failureLimit > 0, record.failures.count > policy.failureLimit {
            record.failures.removeFirst(record.failures.count - policy.failureLimit)
        }
        let count = record.failures.count
        clients[client] = record
        pruneIfNeeded(now: now)
        let delay = policy.failureDelay * min(count, 10)
        if policy.failureLimit > 0, count >= policy.failureLimit { return .cutOff(delay: delay) }
        return .delay(delay)
    }

    /// The failed logins from `client` that still count.
    public func failedLogins(from client: String, at now: Instant) -> Int {
        guard let record = clients[client] else { return 0 }
        return record.failures.filter { now - $0 < policy.failureWindow }.count
    }

    private func forgetExpiredFailures(_ record: inout Client, now: Instant) {
        record.failures.removeAll { now - $0 >= policy.failureWindow }
    }

    private mutating func pruneIfNeeded(now: Instant) {
        guard clients.count > policy.maximumClients else { return }
        let window = max(policy.failureWindow, policy.rateTimeUnit)
        clients = clients.filter { now - $0.value.lastSeen < window }
        guard clients.count > policy.maximumClients else { return }
        let keep = max(policy.maximumClients * 9 / 10, 1)
        let newest = clients.sorted { $0.value.lastSeen > $1.value.lastSeen }.prefix(keep)
        clients = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }
}

/// An ``AuthenticationThrottle`` shared by the sessions of a server, with its clock.
public final class SharedAuthenticationThrottle: Sendable {
    private let throttle: Mutex<AuthenticationThrottle>
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(policy: AuthenticationThrottle.Policy, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        throttle = Mutex(AuthenticationThrottle(policy: policy))
        self.now = now
    }

    public func authCommand(from client: String) -> AuthenticationThrottle.CommandDecision {
        let instant = now()
        return throttle.withLock { $0.authCommand(from: client, at: instant) }
    }

    public func failedLogin(from client: String) -> AuthenticationThrottle.FailureDecision {
        let instant = now()
        return throttle.withLock { $0.failedLogin(from: client, at: instant) }
    }

    /// Applies new limits (a reload) and keeps what was counted so far.
    public func update(policy: AuthenticationThrottle.Policy) {
        throttle.withLock { $0.policy = policy }
    }
}
