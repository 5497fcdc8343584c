import Testing

@testable import SealpostCLI

@Suite("bench source: latency histogram")
struct LatencyHistogramTests {
    @Test("nothing recorded: no percentiles")
    func empty() {
        #expect(LatencyHistogram().value(atPercentile: 50) == nil)
    }

    @Test("values below 128 are exact")
    func smallValuesExact() {
        var histogram = LatencyHistogram()
        for value in UInt64(1)...100 { histogram.record(value) }
        #expect(histogram.value(atPercentile: 50) == 50)
        #expect(histogram.value(atPercentile: 90) == 90)
        #expect(histogram.value(atPercentile: 99) == 99)
        #expect(histogram.value(atPercentile: 100) == 100)
        #expect(histogram.totalCount == 100)
    }

    @Test("large values: percentiles at or just above the true value, within 1/64, and max exact")
    func largeValuesWithinResolution() {
        var histogram = LatencyHistogram()
        // Shuffled order: the answer must not depend on it.
        for value in (UInt64(1)...10_000).map({ $0 * 37 % 10_007 }) where value > 0 && value <= 10_000 {
            histogram.record(value * 1000)
        }
        for (percentile, exact) in [(50.0, 5_000_000.0), (90, 9_000_000), (99, 9_900_000)] {
            let value = Double(histogram.value(atPercentile: percentile)!)
            #expect(value >= exact, "p\(percentile) = \(value)")
            #expect(value <= exact * (1 + 1.0 / 64), "p\(percentile) = \(value)")
        }
        #expect(histogram.maximum == 10_000_000)
        #expect(histogram.value(atPercentile: 100) == 10_000_000)
    }

    @Test("a skewed distribution: p50 low, p99 and max at the outliers")
    func skewed() {
        var histogram = LatencyHistogram()
        for _ in 0..<98 { histogram.record(1_000) }
        histogram.record(500_000)
        histogram.record(2_000_000)
        #expect(histogram.value(atPercentile: 50)! >= 1_000 && histogram.value(atPercentile: 50)! < 1_016)
        #expect(histogram.value(atPercentile: 98)! < 1_016)
        #expect(histogram.value(atPercentile: 99)! >= 500_000 && histogram.value(atPercentile: 99)! < 508_000)
        #expect(histogram.value(atPercentile: 100) == 2_000_000)
    }

    @Test("every bucket's highest value maps back to that bucket, and the next value to the next bucket")
    func bucketsAreContiguous() {
        for index in 0..<2_000 {
            let highest = LatencyHistogram.highestValue(inBucket: index)
            #expect(LatencyHistogram.bucketIndex(of: highest) == index)
            #expect(LatencyHistogram.bucketIndex(of: highest + 1) == index + 1)
        }
        #expect(LatencyHistogram.bucketIndex(of: .max) > 0)
    }

    @Test("merging two histograms equals recording everything into one")
    func merge() {
        var left = LatencyHistogram()
        var right = LatencyHistogram()
        var all = LatencyHistogram()
        for value in UInt64(0)..<500 {
            if value % 3 == 0 { left.record(value * 97) } else { right.record(value * 97) }
            all.record(value * 97)
        }
        left.merge(right)
        #expect(left == all)
    }
}
