#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A wall-clock time with microsecond resolution, as queue IDs, arrival times and retry times use.
public struct QueueTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    public init(seconds: Int64, microseconds: Int32 = 0) {
        microsecondsSinceEpoch = seconds * 1_000_000 + Int64(microseconds)
    }

    /// Whole seconds since the epoch (rounded down).
    public var seconds: Int64 {
        microsecondsSinceEpoch >= 0 || microsecondsSinceEpoch % 1_000_000 == 0
            ? microsecondsSinceEpoch / 1_000_000 : microsecondsSinceEpoch / 1_000_000 - 1
    }

    /// Microseconds within the second, 0..<1,000,000.
    public var microseconds: Int32 {
        Int32(microsecondsSinceEpoch - seconds * 1_000_000)
    }

    /// The current time from the system clock.
    public static func now() -> QueueTimestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return QueueTimestamp(seconds: Int64(now.tv_sec), microseconds: Int32(now.tv_nsec / 1000))
    }

    public func adding(seconds: Int64) -> QueueTimestamp {
        QueueTimestamp(microsecondsSinceEpoch: microsecondsSinceEpoch + seconds * 1_000_000)
    }

    public static func < (lhs: QueueTimestamp, rhs: QueueTimestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// `seconds.microseconds`.
    public var description: String {
        let fraction = String(microseconds)
        return "\(seconds).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}
