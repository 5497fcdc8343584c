import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostQueue

/// Commits per second on this machine's queue file system, for one writer and for 20 concurrent
/// writers, with each durability mode; runs only when `SEALPOST_QUEUE_BENCHMARK` is set (see
/// `Benchmarks/queue-fsync`). Prints figures; never asserts timing.
///
/// The modes alternate within each round so that a slow moment of a shared disk does not land
/// on one mode only; the figure per mode is the median of its rounds.
@Suite("Queue commit benchmark", .enabled(if: ProcessInfo.processInfo.environment["SEALPOST_QUEUE_BENCHMARK"] != nil))
struct QueueBenchmark {
    static let environment = ProcessInfo.processInfo.environment
    static let seconds = Double(environment["SEALPOST_QUEUE_BENCHMARK_SECONDS"] ?? "") ?? 3
    static let rounds = Int(environment["SEALPOST_QUEUE_BENCHMARK_ROUNDS"] ?? "") ?? 5
    static let directory = environment["SEALPOST_QUEUE_BENCHMARK_DIR"]
    static let modes: [QueueConfiguration.Durability] = [.individual, .groupCommit, .groupCommitSyncFS]

    struct Figure {
        var rate: Double
        var p50: Double
        var p99: Double
        var meanBatch: Double
    }

    @Test("commits per second, 4 KiB messages")
    func commitsPerSecond() async throws {
        var figures: [String: [Figure]] = [:]
        for round in 1...Self.rounds {
            for writers in [1, 20] {
                for mode in Self.modes {
                    let figure = try await Self.measure(mode, writers: writers)
                    figures["\(mode) \(writers)", default: []].append(figure)
                    print(String(
                        format: "queue-fsync round %d: %@ writers=%d rate=%.0f/s p50=%.2fms p99=%.2fms mean-batch=%.1f",
                        round, "\(mode)", writers, figure.rate, figure.p50, figure.p99, figure.meanBatch))
                }
            }
        }
        print("queue-fsync summary (median of \(Self.rounds) rounds of \(Self.seconds) s):")
        print("| mode | writers | commits/s | p50 latency | p99 latency | commits per sync batch |")
        print("|---|---|---|---|---|---|")
        for writers in [1, 20] {
            for mode in Self.modes {
                let runs = figures["\(mode) \(writers)"]!
                func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
                print(String(
                    format: "| %@ | %d | %.0f | %.2f ms | %.2f ms | %.1f |", "\(mode)", writers, median(runs.map(\.rate)),
                    median(runs.map(\.p50)), median(runs.map(\.p99)), median(runs.map(\.meanBatch))))
            }
        }
    }

    static func measure(_ durability: QueueConfiguration.Durability, writers: Int) async throws -> Figure {
        let scratch = try TemporaryDirectory()
        let base = directory.map { "\($0)/sealpost-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" } ?? scratch.path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let store = try QueueStore(
            configuration: QueueConfiguration(directory: base + "/queue", durability: durability), logger: quietLogger)
        let body = [UInt8](repeating: 0x61, count: 4096)
        let start = Date()
        let deadline = start.addingTimeInterval(seconds)
        var latencies: [Double] = []
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<writers {
                group.addTask {
                    var mine: [Double] = []
                    while Date() < deadline {
                        let began = DispatchTime.now().uptimeNanoseconds
                        let writer = try store.makeWriter(envelope: sampleEnvelope())
                        try writer.append(body)
                        _ = try await store.commit(writer)
                        mine.append(Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6)
                    }
                    return mine
                }
            }
            for try await mine in group { latencies += mine }
        }
        let elapsed = Date().timeIntervalSince(start)
        latencies.sort()
        let statistics = store.commitStatistics
        return Figure(
            rate: Double(latencies.count) / elapsed, p50: latencies[latencies.count / 2],
            p99: latencies[min(latencies.count - 1, latencies.count * 99 / 100)],
            meanBatch: Double(statistics.requests) / Double(max(1, statistics.batches)))
    }
}
