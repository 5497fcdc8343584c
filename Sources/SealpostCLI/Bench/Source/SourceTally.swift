/// What all sessions of one run share: the messages still to send, and what became of those sent.
actor SourceTally {
    private let total: Int
    private var claimed = 0
    private(set) var accepted = 0
    private(set) var failed = 0
    private(set) var latency = LatencyHistogram()
    /// Failures by what went wrong: a reply code with the command it answered, or a connection problem.
    private(set) var errors: [String: Int] = [:]
    /// Connections by negotiated TLS protocol and cipher.
    private(set) var tls: [String: Int] = [:]
    private(set) var connections = 0

    init(messages: Int) {
        total = messages
    }

    /// The sequence number (from 1) of the next message to send, or nil when all have been handed out.
    func claim() -> Int? {
        guard claimed < total else { return nil }
        claimed += 1
        return claimed
    }

    func accept(microseconds: UInt64) {
        accepted += 1
        latency.record(microseconds)
    }

    func fail(_ failure: SourceFailure) {
        failed += 1
        errors[failure.key, default: 0] += 1
    }

    func connected(tls summary: String?) {
        connections += 1
        if let summary { tls[summary, default: 0] += 1 }
    }
}

/// Why a message was not accepted. `key` groups alike failures in the report; it never holds the AUTH
/// credentials.
struct SourceFailure: Error, Sendable {
    var key: String

    /// A reply that was not the one wanted, grouped by its code and the command it answered.
    static func reply(_ code: Int, to command: String) -> SourceFailure {
        SourceFailure(key: "\(code) after \(command)")
    }
}
