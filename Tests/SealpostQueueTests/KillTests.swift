import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostQueue

/// A child process (this test binary, re-run by Swift Testing's exit tests) commits messages from
/// many tasks and appends every queue ID it got back to a log with one write(2) each; the parent
/// kills it with SIGKILL at a random moment, then recovers the queue and checks every logged ID.
@Suite("SIGKILL during a burst of commits")
struct KillTests {
    static let writers = 20

    @Test("every acknowledged message survives SIGKILL intact", arguments: [1, 2, 3])
    func killDuringBurst(round: Int) async throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        var generator = SeededGenerator(seed: UInt64(round) * 7919)
        let killAfter = Int.random(in: 30...300, using: &generator)

        // A thread of its own (not the busy Swift concurrency pool) polls the log's size, about 17
        // bytes an ID, so the kill lands close to its moment.
        let killed = TestLocked<Bool?>(nil)
        let killer = Thread {
            let deadline = Date().addingTimeInterval(60)
            var pid: Int32?
            while Date() < deadline {
                if pid == nil, let text = try? String(contentsOfFile: directory + "/pid", encoding: .utf8) { pid = Int32(text) }
                var info = stat()
                if let pid, stat(directory + "/acknowledged", &info) == 0, Int(info.st_size) >= killAfter * 17 {
                    kill(pid, SIGKILL)
                    killed.withLock { $0 = true }
                    return
                }
                usleep(200)
            }
            killed.withLock { $0 = false }
        }
        killer.start()

        await #expect(processExitsWith: .signal(SIGKILL)) { [directory = directory as String] in
            try await KillTests.burst(directory: directory)
        }
        while killed.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(killed.withLock { $0 } == true, "the child never reached the kill point")

        let acknowledged = try String(contentsOfFile: directory + "/acknowledged", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let ids = acknowledged.compactMap { QueueID($0) }
        #expect(ids.count == acknowledged.count, "a torn line in the acknowledgement log")
        #expect(ids.count >= killAfter * 8 / 10)

        let store = try QueueStore(configuration: QueueConfiguration(directory: directory + "/queue"), logger: quietLogger)
        let report = try store.recover()
        #expect(report.quarantined.isEmpty)
        #expect(report.repairedJournals == 0)
        let recovered = Set(report.messages.map(\.id))
        for id in ids {
            #expect(recovered.contains(id), "acknowledged \(id) lost")
        }
        // Everything in active is whole, acknowledged or not (the unacknowledged ones finished
        // their rename before the kill).
        for message in report.messages {
            let handle = try store.open(message.id)
            #expect(try handle.content().readAll() == content(for: message.id), "\(message.id) damaged")
            #expect(handle.envelope.recipients.count == 2)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/queue/incoming").isEmpty)
        print("kill round \(round): kill point \(killAfter), killed after \(ids.count) acknowledged, \(report.messages.count) recovered, \(report.removedIncomplete) incomplete removed")
    }

    /// The child's work: commits until killed (or gives up after 30 s).
    static func burst(directory: String) async throws {
        let store = try QueueStore(configuration: QueueConfiguration(directory: directory + "/queue"), logger: quietLogger)
        let log = open(directory + "/acknowledged", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        precondition(log >= 0)
        let pid = Array("\(getpid())".utf8)
        let pidFile = open(directory + "/pid.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = pid.withUnsafeBytes { write(pidFile, $0.baseAddress, $0.count) }
        close(pidFile)
        rename(directory + "/pid.tmp", directory + "/pid")
        let deadline = Date().addingTimeInterval(30)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<writers {
                group.addTask {
                    while Date() < deadline {
                        let writer = try store.makeWriter(envelope: sampleEnvelope())
                        let body = content(for: writer.id)
                        try writer.append(Array(body[..<1000]))
                        try writer.append(Array(body[1000...]))
                        let id = try await store.commit(writer)
                        let line = Array("\(id)\n".utf8)
                        _ = line.withUnsafeBytes { write(log, $0.baseAddress, $0.count) }
                    }
                }
            }
            try await group.waitForAll()
        }
        exit(1)
    }
}
