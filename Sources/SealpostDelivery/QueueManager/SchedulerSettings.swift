#if canImport(Glibc)
import Glibc
#endif
import SealpostConfig

/// The queue manager's parameters, with Postfix's meanings (qmgr(8)).
public struct SchedulerSettings: Sendable {
    /// `minimal_backoff_time`, `maximal_backoff_time`: bounds of the wait before a deferred
    /// message is tried again (the wait is the message's age, so it doubles with each try).
    public var minimalBackoff: Int
    public var maximalBackoff: Int
    /// `queue_run_delay`: how often the deferred queue is scanned.
    public var queueRunDelay: Int
    /// `maximal_queue_lifetime`, `bounce_queue_lifetime` (for mail from `<>`): after this long in
    /// the queue, a temporary failure becomes a bounce. 0 means "try once".
    public var maximalLifetime: Int
    public var bounceLifetime: Int
    /// `delay_warning_time`: 0 disables delay notices.
    public var delayWarning: Int
    /// `initial_destination_concurrency`, `default_destination_concurrency_limit`,
    /// `default_destination_concurrency_failed_cohort_limit`.
    public var initialConcurrency: Int
    public var failedCohortLimit: Int
    /// `defer_transports`: transports whose mail waits for a flush.
    public var deferTransports: Set<String>
    /// `soft_bounce`: permanent failures are deferred instead (a safety net while testing).
    public var softBounce: Bool
    /// `qmgr_message_active_limit`: messages being delivered at once. Each holds its queue file
    /// open while it is delivered (Postfix's qmgr keeps them in memory instead), so the limit is also
    /// kept to a quarter of the open-file limit, leaving the rest to SMTP sessions and agents.
    public var activeLimit: Int
    /// Per-transport limits: `<transport>_destination_concurrency_limit` and
    /// `<transport>_destination_recipient_limit`, falling back to the `default_…` ones.
    private var concurrencyLimits: [String: Int]
    private var recipientLimits: [String: Int]
    private let defaultConcurrencyLimit: Int
    private let defaultRecipientLimit: Int

    public init(_ configuration: ServiceConfiguration, transports: [String]) {
        minimalBackoff = configuration.seconds("minimal_backoff_time")
        maximalBackoff = max(configuration.seconds("maximal_backoff_time"), minimalBackoff)
        queueRunDelay = configuration.seconds("queue_run_delay")
        maximalLifetime = configuration.seconds("maximal_queue_lifetime")
        bounceLifetime = configuration.seconds("bounce_queue_lifetime")
        delayWarning = configuration.seconds("delay_warning_time")
        initialConcurrency = max(1, configuration.integer("initial_destination_concurrency"))
        failedCohortLimit = max(1, configuration.integer("default_destination_concurrency_failed_cohort_limit"))
        deferTransports = Set(configuration.list("defer_transports"))
        softBounce = configuration.bool("soft_bounce")
        activeLimit = max(1, min(configuration.integer("qmgr_message_active_limit"), Self.openFileShare()))
        defaultConcurrencyLimit = configuration.integer("default_destination_concurrency_limit")
        defaultRecipientLimit = configuration.integer("default_destination_recipient_limit")
        concurrencyLimits = [:]
        recipientLimits = [:]
        for transport in transports {
            concurrencyLimits[transport] = Self.integer(
                "\(transport)_destination_concurrency_limit", in: configuration, default: defaultConcurrencyLimit)
            recipientLimits[transport] = Self.integer(
                "\(transport)_destination_recipient_limit", in: configuration, default: defaultRecipientLimit)
        }
    }

    /// Settings for tests.
    public init(
        minimalBackoff: Int = 300, maximalBackoff: Int = 4000, queueRunDelay: Int = 300, maximalLifetime: Int = 5 * 86400,
        bounceLifetime: Int = 5 * 86400, delayWarning: Int = 0, initialConcurrency: Int = 5, concurrencyLimit: Int = 20,
        recipientLimit: Int = 50, failedCohortLimit: Int = 1, deferTransports: Set<String> = [], softBounce: Bool = false,
        activeLimit: Int = 100
    ) {
        self.minimalBackoff = minimalBackoff
        self.maximalBackoff = maximalBackoff
        self.queueRunDelay = queueRunDelay
        self.maximalLifetime = maximalLifetime
        self.bounceLifetime = bounceLifetime
        self.delayWarning = delayWarning
        self.initialConcurrency = initialConcurrency
        self.failedCohortLimit = failedCohortLimit
        self.deferTransports = deferTransports
        self.softBounce = softBounce
        self.activeLimit = activeLimit
        defaultConcurrencyLimit = concurrencyLimit
        defaultRecipientLimit = recipientLimit
        concurrencyLimits = [:]
        recipientLimits = [:]
    }

    /// Deliveries in parallel to one destination of `transport` (0 in Postfix means no limit).
    public func concurrencyLimit(for transport: String) -> Int {
        let limit = concurrencyLimits[transport] ?? defaultConcurrencyLimit
        return limit <= 0 ? Int.max : limit
    }

    /// Recipients per delivery request for `transport` (at least 1).
    public func recipientLimit(for transport: String) -> Int {
        max(1, recipientLimits[transport] ?? defaultRecipientLimit)
    }

    /// The wait before the next try of a message that arrived `age` seconds ago, as Postfix's
    /// qmgr computes it: the age, bounded by the minimal and maximal backoff times.
    public func backoff(age: Int) -> Int {
        min(max(age, minimalBackoff), maximalBackoff)
    }

    /// How long a message from `sender` may stay in the queue.
    public func lifetime(sender: String) -> Int {
        sender.isEmpty ? bounceLifetime : maximalLifetime
    }

    /// A quarter of the soft open-file limit (RLIMIT_NOFILE), at least 16.
    static func openFileShare() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return Int.max }
        return max(16, Int(clamping: limit.rlim_cur / 4))
    }

    /// A catalogued integer, or one a user defined for their own transport in main.cf.
    private static func integer(_ name: String, in configuration: ServiceConfiguration, default fallback: Int) -> Int {
        if case .integer(let value)? = configuration.values[name] { return value }
        if let text = configuration.scope.expanded(name)?.value, let word = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).first, let value = Int(word) {
            return value
        }
        return fallback
    }
}
