/// A destination: one transport and next hop, as Postfix's queue manager keys its queues.
public struct DestinationKey: Sendable, Hashable, CustomStringConvertible {
    public var transport: String
    public var nexthop: String

    public init(transport: String, nexthop: String) {
        self.transport = transport
        self.nexthop = nexthop.lowercased()
    }

    public var description: String { "\(transport):\(nexthop)" }
}

/// The concurrency window of one destination, after Postfix's scheduler: it starts at
/// `initial_destination_concurrency`, grows by one for each window's worth of deliveries that
/// reached the destination, shrinks by one for each that did not, and after
/// `…_failed_cohort_limit` failed deliveries in a row at concurrency 1 the destination is "dead":
/// its mail is deferred without a try ("delivery temporarily suspended") until `minimal_backoff_time`
/// has passed.
struct DestinationState {
    var window: Double
    let limit: Int
    var active = 0
    var failuresInRow = 0
    /// Set while the destination is dead: the reason and until when.
    var suspended: (reason: String, until: Int64)?

    init(initial: Int, limit: Int) {
        self.limit = limit
        window = Double(min(initial, limit))
    }

    var hasRoom: Bool { active < max(1, Int(window)) }

    /// A delivery that reached the destination (whatever each recipient's result).
    mutating func succeeded() {
        failuresInRow = 0
        suspended = nil
        window = min(Double(limit), window + 1 / max(1, window))
    }

    /// A delivery that did not reach it (connection refused, timeout, TLS failure…). Returns true
    /// when the destination is now dead.
    mutating func failed(reason: String, now: Int64, failedCohortLimit: Int, suspendFor: Int) -> Bool {
        failuresInRow += 1
        window = max(1, window - 1 / max(1, window))
        if window <= 1 && failuresInRow >= failedCohortLimit {
            suspended = (reason, now + Int64(suspendFor))
            return true
        }
        return false
    }

    /// The reason mail waits, if the destination is dead now.
    mutating func suspension(now: Int64) -> String? {
        guard let current = suspended else { return nil }
        if now >= current.until {
            suspended = nil
            failuresInRow = 0
            return nil
        }
        return current.reason
    }
}
