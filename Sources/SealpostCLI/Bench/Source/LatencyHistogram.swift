/// A log-bucketed histogram of non-negative integers (HdrHistogram's layout with 64 sub-buckets per power
/// of two): values below 128 are exact, larger ones are kept within 1/64 of their value, in fixed memory.
struct LatencyHistogram: Sendable, Equatable {
    /// Sub-buckets per power of two; 64 gives 1.6% resolution, plenty for latency percentiles.
    private static let subBucketBits = 6
    private static let subBucketCount = 1 << subBucketBits

    private var counts: [UInt64] = []
    private(set) var totalCount: UInt64 = 0
    private(set) var maximum: UInt64 = 0
    private(set) var minimum: UInt64 = .max

    init() {}

    mutating func record(_ value: UInt64) {
        let index = Self.bucketIndex(of: value)
        if index >= counts.count { counts += Array(repeating: 0, count: index + 1 - counts.count) }
        counts[index] += 1
        totalCount += 1
        maximum = max(maximum, value)
        minimum = min(minimum, value)
    }

    mutating func merge(_ other: LatencyHistogram) {
        if other.counts.count > counts.count { counts += Array(repeating: 0, count: other.counts.count - counts.count) }
        for (index, count) in other.counts.enumerated() { counts[index] += count }
        totalCount += other.totalCount
        maximum = max(maximum, other.maximum)
        minimum = min(minimum, other.minimum)
    }

    /// The smallest recorded value at or below which `percentile` percent of all values lie, reported as the
    /// highest value its bucket stands for (never above the true maximum); nil when nothing was recorded.
    func value(atPercentile percentile: Double) -> UInt64? {
        guard totalCount > 0 else { return nil }
        let clamped = min(max(percentile, 0), 100)
        let wanted = max(UInt64((clamped / 100 * Double(totalCount)).rounded(.up)), 1)
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= wanted { return min(Self.highestValue(inBucket: index), maximum) }
        }
        return maximum
    }

    /// Values below 2 × subBucketCount map to themselves; above, each power of two gets `subBucketCount` slots.
    static func bucketIndex(of value: UInt64) -> Int {
        guard value >= UInt64(2 * subBucketCount) else { return Int(value) }
        let shift = (64 - value.leadingZeroBitCount) - (subBucketBits + 1)
        return (shift + 1) * subBucketCount + Int(value >> UInt64(shift)) - subBucketCount
    }

    static func highestValue(inBucket index: Int) -> UInt64 {
        guard index >= 2 * subBucketCount else { return UInt64(index) }
        let shift = index / subBucketCount - 1
        let lowest = UInt64(index % subBucketCount + subBucketCount) << UInt64(shift)
        return lowest + (UInt64(1) << UInt64(shift)) - 1
    }
}
