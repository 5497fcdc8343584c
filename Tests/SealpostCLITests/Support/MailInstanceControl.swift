import Foundation
import SealpostTestSupport
import Testing

/// What tests that restart an instance with other settings, or look into its queue, need.
extension MailInstance {
    /// Sets `name = value` in main.cf (nil removes it); takes effect at the next ``start()``.
    func setMain(_ name: String, _ value: String?) throws {
        var lines = try fixtures.read("main.cf").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeAll { $0.hasPrefix("\(name) =") || $0.hasPrefix("\(name)=") }
        while lines.last == "" { lines.removeLast() }
        if let value { lines.append("\(name) = \(value)") }
        try fixtures.write("main.cf", lines.joined(separator: "\n") + "\n", mode: 0o644)
    }

    /// Starts Sealpost and waits for this run's `daemon started` line: after a restart, ``start()``
    /// alone returns as soon as it sees the line an earlier run wrote.
    func startAgain(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = logCount("daemon started")
        try start()
        guard waitUntil(timeout: 30, { self.logCount("daemon started") > before }) else {
            Issue.record("Sealpost did not start again:\n\(log.suffix(2000))", sourceLocation: sourceLocation)
            throw CocoaError(.executableLoad)
        }
    }

    /// The file names in one queue directory (`incoming`, `active`, `deferred`, `hold`, `corrupt`).
    func queueFiles(_ queue: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/queue/\(queue)")) ?? []).sorted()
    }

    /// Whether no message waits in incoming, active or deferred (spare files, kept open in
    /// incoming for new messages, hold none).
    var queueIsEmpty: Bool {
        ["incoming", "active", "deferred"].allSatisfy { queue in queueFiles(queue).allSatisfy { $0.hasPrefix("spare.") } }
    }

    /// The files in incoming other than spare files: messages being written.
    var messagesInIncoming: [String] {
        queueFiles("incoming").filter { !$0.hasPrefix("spare.") }
    }

    /// Files of delivered messages the daemon keeps open in incoming for new ones.
    var spareFiles: Int {
        queueFiles("incoming").filter { $0.hasPrefix("spare.") }.count
    }

    /// Asks the running daemon to deliver the deferred queue now (`sealpost queue flush`).
    func flush(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try SealpostBinary.run(["queue", "-c", directory, "flush"])
        #expect(result.status == 0, "sealpost queue flush: \(result.standardError)", sourceLocation: sourceLocation)
    }

    /// How many log lines contain `text`.
    func logCount(_ text: String) -> Int {
        log.split(separator: "\n").reduce(0) { $0 + ($1.contains(text) ? 1 : 0) }
    }
}
