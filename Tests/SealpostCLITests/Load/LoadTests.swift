import Foundation
import SealpostTestSupport
import Testing

/// Many concurrent sessions — plaintext, STARTTLS, STARTTLS with AUTH — for a while, then: every
/// message got its 250 and reached the Maildir, no errors, memory stayed bounded, no descriptor
/// leaked. The figures are printed for the closing notes.
///
/// CI runs 300 sessions for 30 s; `SEALPOST_LOAD_SESSIONS` and `SEALPOST_LOAD_SECONDS` set others
/// (`Scripts/soak-load` runs 2,000 for 10 minutes).
@Suite("Load: concurrent plaintext, STARTTLS and AUTH sessions")
struct LoadTests {
    struct Report: Decodable {
        var sessions: Int
        var seconds: Double
        var acknowledged: [String: Int]
        var connections: [String: Int]
        var errors: [String: Int]
        var rss_kib: [[Double]]
    }

    static var sessions: Int { Int(ProcessInfo.processInfo.environment["SEALPOST_LOAD_SESSIONS"] ?? "") ?? 300 }
    static var seconds: Int { Int(ProcessInfo.processInfo.environment["SEALPOST_LOAD_SECONDS"] ?? "") ?? 30 }

    /// Limits raised as an administrator would for this load: every session comes from 127.0.0.1,
    /// which Postfix's per-client connection limit (50) would otherwise cut off.
    static func instance(sessions: Int) throws -> MailInstance {
        let maxproc = sessions + 100
        return try MailInstance(
            mainExtra: """
                smtpd_client_connection_count_limit = \(maxproc)
                default_process_limit = \(maxproc)
                """,
            master: MailInstance.seedMaster.replacingOccurrences(of: "inet n - n - - smtpd", with: "inet n - n - \(maxproc) smtpd"))
    }

    /// Raises this process's open-file limit to the hard limit; Sealpost and the client inherit it.
    static func raiseOpenFileLimit() -> rlim_t {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return limit.rlim_cur
    }

    static func openDescriptors(_ pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    static func queueIsEmpty(_ instance: MailInstance) -> Bool {
        ["incoming", "active", "deferred", "maildrop"].allSatisfy { queue in
            let path = "\(instance.directory)/queue/\(queue)"
            guard let entries = FileManager.default.enumerator(atPath: path) else { return true }
            return !entries.contains { entry in
                if queue == "incoming", let name = entry as? String, name.hasPrefix("spare.") { return false }
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: "\(path)/\(entry)", isDirectory: &isDirectory)
                return !isDirectory.boolValue
            }
        }
    }

    /// The X-Token of every message in demo's Maildir, read from the headers only.
    static func deliveredTokens(_ instance: MailInstance) -> [String] {
        let path = "\(instance.directory)/mail/example.test/demo/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name in
            guard let handle = FileHandle(forReadingAtPath: "\(path)/\(name)") else { return nil }
            defer { try? handle.close() }
            let head = String(decoding: handle.readData(ofLength: 4096), as: UTF8.self)
            return head.split(separator: "\n").first { $0.hasPrefix("X-Token: ") }
                .map { String($0.dropFirst(9)).trimmingCharacters(in: .whitespacesAndNewlines) }
        }
    }

    /// Runs the load client and returns its report and the acknowledged tokens.
    static func runLoad(_ instance: MailInstance, pid: Int32, sessions: Int, seconds: Int, prefix: String) throws -> (Report, [String]) {
        let tokensPath = instance.fixtures.path("tokens-\(prefix)")
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        client.arguments = [
            "python3", "-c", LoadClient.script, "--smtp", "\(instance.smtpPort)", "--submission", "\(instance.submissionPort)",
            "--sessions", "\(sessions)", "--seconds", "\(seconds)", "--cafile", instance.fixtures.path("cert.pem"),
            "--user", "demo@example.test", "--password", "secret", "--recipient", "demo@example.test",
            "--pid", "\(pid)", "--tokens", tokensPath, "--prefix", prefix,
        ]
        let output = Pipe()
        let errors = Pipe()
        client.standardOutput = output
        client.standardError = errors
        client.standardInput = FileHandle.nullDevice
        try client.run()
        defer { if client.isRunning { client.terminate(); client.waitUntilExit() } }
        // Read both pipes to the end at once: a full stderr pipe must not stall the client.
        nonisolated(unsafe) var errorData = Data()
        let errorReader = Thread { errorData = errors.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        client.waitUntilExit()
        while !errorReader.isFinished { usleep(10_000) }
        guard client.terminationStatus == 0 else {
            throw ScannerOutputError("load client failed (\(client.terminationStatus)): \(String(decoding: errorData, as: UTF8.self).suffix(3000))")
        }
        let report = try JSONDecoder().decode(Report.self, from: data)
        let tokens = try String(contentsOfFile: tokensPath, encoding: .utf8).split(separator: "\n").map(String.init)
        return (report, tokens)
    }

    @Test("no errors, every message delivered, memory bounded, no descriptor leaked")
    func sustainedMixedLoad() async throws {
        let (sessions, seconds) = (Self.sessions, Self.seconds)
        let openFiles = Self.raiseOpenFileLimit()
        try #require(openFiles > rlim_t(sessions * 3 + 200), "the open-file limit (\(openFiles)) is too low for \(sessions) sessions: raise ulimit -n")
        let instance = try Self.instance(sessions: sessions)
        try instance.start()
        let pid = try #require(instance.process?.process.processIdentifier)

        // A warm-up session of each kind first, so that what Sealpost opens once (the TLS context,
        // Maildir, the queue's directories) is in the baseline.
        let (_, warmUpTokens) = try await offCooperativePool { try Self.runLoad(instance, pid: pid, sessions: 3, seconds: 2, prefix: "warmup") }
        #expect(try await offCooperativePool { waitUntil(timeout: 60) { Self.queueIsEmpty(instance) } })
        // Spare queue files are open descriptors that are not leaked: counted out.
        let baselineDescriptors = Self.openDescriptors(pid) - instance.spareFiles

        let (report, acknowledged) = try await offCooperativePool {
            try Self.runLoad(instance, pid: pid, sessions: sessions, seconds: seconds, prefix: "load")
        }
        let drainStart = Date()
        let drained = try await offCooperativePool { Self.waitForDrain(instance) }
        let drainSeconds = Int(Date().timeIntervalSince(drainStart))
        #expect(drained, "the queue drains after the load")

        // Connections closed by the clients are released once Sealpost has seen the EOF.
        let finalDescriptors = try await offCooperativePool {
            var count = Self.openDescriptors(pid) - instance.spareFiles
            _ = waitUntil(timeout: 30) {
                count = Self.openDescriptors(pid) - instance.spareFiles
                return count <= baselineDescriptors
            }
            return count
        }

        let delivered = Self.deliveredTokens(instance)
        let deliveredSet = Set(delivered)
        let lost = acknowledged.filter { !deliveredSet.contains($0) }
        let unexpected = deliveredSet.subtracting(acknowledged).subtracting(warmUpTokens)
        let errorCount = report.errors.values.reduce(0, +)
        let rss = report.rss_kib.map { Int($0[1]) }
        let half = rss.count / 2
        let firstHalfPeak = rss.prefix(half).max() ?? 0
        let secondHalfPeak = rss.suffix(from: half).max() ?? 0
        let finalRSS = rss.last ?? 0
        let afterDrain = Self.residentKiB(pid)

        print("""
            load test: \(sessions) sessions for \(report.seconds) s (plain/STARTTLS/STARTTLS+AUTH), \
            \(acknowledged.count) messages acknowledged \(report.acknowledged), \(report.connections.values.reduce(0, +)) connections, \
            \(deliveredSet.count) delivered (queue drained in \(drainSeconds) s after the load), \(lost.count) lost, \(delivered.count - deliveredSet.count) duplicated, \
            errors \(errorCount) \(report.errors), RSS peak \(rss.max() ?? 0) KiB (first half \(firstHalfPeak), second half \(secondHalfPeak)), \
            at the end of the load \(finalRSS) KiB, after draining \(afterDrain) KiB, descriptors \(baselineDescriptors) before, \(finalDescriptors) after
            """)

        #expect(errorCount == 0, "errors during the load: \(report.errors)")
        #expect(acknowledged.count >= sessions, "every session sent mail")
        for mode in ["plain", "starttls", "auth"] {
            #expect((report.acknowledged[mode] ?? 0) > 0, "\(mode) sessions got messages through")
        }
        #expect(lost.isEmpty, "acknowledged, never delivered: \(lost.prefix(10))")
        #expect(delivered.count == deliveredSet.count, "no message delivered twice")
        #expect(unexpected.isEmpty, "delivered without an acknowledgement: \(unexpected.prefix(10))")
        #expect(rss.count >= seconds / 2, "memory was sampled through the run")
        // Bounded: once the sessions are all running, memory levels off; the second half of the run
        // may not climb above the first half's peak by more than a quarter plus 32 MiB.
        #expect(secondHalfPeak <= firstHalfPeak + firstHalfPeak / 4 + 32 * 1024, "RSS grows: \(firstHalfPeak) KiB → \(secondHalfPeak) KiB")
        #expect(finalDescriptors <= baselineDescriptors, "descriptors leaked: \(baselineDescriptors) before the load, \(finalDescriptors) after")
        #expect(!instance.log.contains("panic") && !instance.log.contains("fatal:"))
    }

    /// Waits until the queue is empty for as long as delivery makes progress: when the load was
    /// accepted faster than it could be delivered, the backlog takes its own time. Gives up after
    /// a minute without a single delivery.
    static func waitForDrain(_ instance: MailInstance) -> Bool {
        let maildir = "\(instance.directory)/mail/example.test/demo/new"
        while true {
            let before = ((try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []).count
            if waitUntil(timeout: 60, { Self.queueIsEmpty(instance) }) { return true }
            let after = ((try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []).count
            if after == before { return false }
        }
    }

    /// The resident memory of `pid` now, in KiB.
    static func residentKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
}
