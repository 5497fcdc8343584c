/// The summary printed at the end of a run.
struct SourceReport {
    var sessions: Int
    var messages: Int
    var accepted: Int
    var failed: Int
    var connections: Int
    var wallTime: Duration
    var latency: LatencyHistogram
    var errors: [String: Int]
    var tls: [String: Int]

    var text: String {
        let seconds = Double(wallTime.components.seconds) + Double(wallTime.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(accepted) / seconds : 0
        var text = "messages: \(messages) sent, \(accepted) accepted, \(failed) failed\n"
        text += "sessions: \(sessions), connections: \(connections)\n"
        text += "wall time: \(Self.fixed(seconds, 3)) s, \(Self.fixed(rate, 1)) msgs/s\n"
        if latency.totalCount > 0 {
            let parts = [("p50", 50.0), ("p90", 90), ("p99", 99), ("max", 100)].map { name, percentile in
                "\(name) \(Self.milliseconds(latency.value(atPercentile: percentile) ?? 0))"
            }
            text += "latency ms (MAIL to end of data): \(parts.joined(separator: " "))\n"
        }
        for (summary, count) in tls.sorted(by: { $0.key < $1.key }) {
            text += "TLS: \(summary) (\(count) connection\(count == 1 ? "" : "s"))\n"
        }
        for (key, count) in errors.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            text += "error: \(key): \(count)\n"
        }
        return text
    }

    private static func milliseconds(_ microseconds: UInt64) -> String {
        fixed(Double(microseconds) / 1000, 3)
    }

    /// Fixed-point without Foundation's formatters, which differ between platforms.
    private static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled) - whole * Int(scale)
        guard digits > 0 else { return "\(whole)" }
        let padded = String(repeating: "0", count: max(digits - String(fraction).count, 0)) + String(fraction)
        return "\(whole).\(padded)"
    }
}
