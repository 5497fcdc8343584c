import Foundation
import Logging
import SealpostConfig
import SealpostQueue
import SealpostRouting
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// The scheduler with scripted agents: results recorded before anything else happens, backoff,
/// expiry, notices, concurrency and recipient limits, dead destinations, soft_bounce, deferred
/// transports and flushes.
@Suite("Queue manager") struct QueueManagerTests {
    /// A queue, a resolver whose remote mail goes to the `smtp` transport, and a manager whose
    /// smtp agent runs `script`.
    final class Harness: @unchecked Sendable {
        let temporary: TemporaryDirectory
        let store: QueueStore
        let agent: ScriptedAgent
        let notices = RecordingNotices()
        let manager: QueueManager
        let logs = LogCapture()
        private var task: Task<Void, Never>?

        init(
            settings: SchedulerSettings = SchedulerSettings(minimalBackoff: 1, maximalBackoff: 2, queueRunDelay: 1),
            compactionThreshold: Int = 64 * 1024, script: @escaping ScriptedAgent.Script
        ) throws {
            temporary = try TemporaryDirectory()
            store = try QueueStore(
                configuration: QueueConfiguration(directory: temporary.path + "/queue", journalCompactionThreshold: compactionThreshold))
            agent = ScriptedAgent(script: script)
            let host = HostFacts(hostname: "mx", interfaceAddresses: [.init(address: "127.0.0.1", prefixLength: 8, isIPv6: false)], processID: 1)
            let text = """
                myhostname = mx.example.com
                mydomain = example.com
                mydestination = $myhostname, localhost
                transport_maps = inline:{ held.example=held:, { gone.example = error:5.1.1 no such domain here } }
                """
            let configuration = Configuration(
                directory: "/etc/sealpost", main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
                master: MasterConfFile(path: "master.cf", bytes: []), host: host)
            let resolver = AddressResolver(settings: try RoutingSettings(configuration.global, host: host))
            let agent = self.agent
            let logs = self.logs
            manager = QueueManager(
                store: store, resolver: resolver, settings: settings,
                agents: { transport in
                    switch transport {
                    case "smtp", "held": agent
                    case "error": ErrorDeliveryAgent()
                    default: nil
                    }
                },
                agentLogger: { transport in logs.logger(transport) }, notices: notices, log: logs.logger("qmgr"))
        }

        func start(recovered: [RecoveredMessage] = []) {
            let manager = self.manager
            task = Task { await manager.run(recovered: recovered) }
        }

        func stop() async {
            await manager.finish()
            task?.cancel()
            await task?.value
        }

        func submit(_ recipients: [String], sender: String = "sender@example.com", notify: DSNNotify = []) async throws -> QueueID {
            let envelope = QueueEnvelope(sender: sender, recipients: recipients.map { QueueRecipient(address: $0, notify: notify) })
            let writer = try store.makeWriter(envelope: envelope)
            try writer.append(Array("Subject: test\r\n\r\nbody\r\n".utf8))
            let id = try await store.commit(writer)
            await manager.enqueue(id)
            return id
        }

        func files(in queue: QueueName) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(temporary.path)/queue/\(queue)")) ?? []).sorted()
        }
    }

    /// A delivery agent whose answers a test scripts; it counts calls and parallel deliveries.
    final class ScriptedAgent: DeliveryAgent, @unchecked Sendable {
        typealias Script = @Sendable (DeliveryRequest, Int) async -> DeliveryReport
        let script: Script
        private let lock = NSLock()
        private var _requests: [DeliveryRequest] = []
        private var running = 0
        private(set) var mostInParallel = 0

        init(script: @escaping Script) { self.script = script }

        var requests: [DeliveryRequest] { lock.withLock { _requests } }

        func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
            let call = lock.withLock {
                _requests.append(request)
                running += 1
                mostInParallel = max(mostInParallel, running)
                return _requests.count
            }
            let report = await script(request, call)
            lock.withLock { running -= 1 }
            return report
        }
    }

    /// Notices the manager asked for, queued as real messages to the sender.
    final class RecordingNotices: NoticeSender, @unchecked Sendable {
        private let lock = NSLock()
        struct Notice: Sendable {
            var kind: NotificationKinds
            var recipients: [Int]
        }
        private var _sent: [Notice] = []
        var sent: [Notice] { lock.withLock { _sent } }

        func send(
            _ kind: NotificationKinds, recipients: [Int], of snapshot: MessageSnapshot,
            content: @escaping @Sendable () throws(QueueError) -> MessageContentReader
        ) async throws -> [QueuedNotice] {
            // A stand-in id: the real sender commits a message; the manager only logs and enqueues it.
            let id = QueueID(seconds: 1, microseconds: UInt32(lock.withLock { _sent.count }), inode: 1)
            lock.withLock { _sent.append(Notice(kind: kind, recipients: recipients)) }
            return [QueuedNotice(id: id, logName: "sender non-delivery notification")]
        }
    }

    /// Log lines by logger label.
    final class LogCapture: @unchecked Sendable {
        private let lock = NSLock()
        private var _lines: [String] = []
        var lines: [String] { lock.withLock { _lines } }

        func logger(_ process: String) -> Logger {
            Logger(label: process) { _ in CaptureHandler(process: process, capture: self) }
        }

        func append(_ line: String) { lock.withLock { _lines.append(line) } }

        struct CaptureHandler: LogHandler {
            let process: String
            let capture: LogCapture
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .info
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
                capture.append("\(process): \(message)")
            }
        }
    }

    static func sent(_ request: DeliveryRequest) -> DeliveryReport {
        DeliveryReport(
            results: request.recipients.map {
                RecipientResult(
                    index: $0.index, status: .sent, dsn: "2.0.0", text: "250 2.0.0 Ok: queued as X", relay: "mx[192.0.2.1]:25",
                    remoteMTA: "dns; mx", action: .relayed)
            }, setupSeconds: 0.02, transmissionSeconds: 0.01)
    }

    static func refused(_ request: DeliveryRequest) -> DeliveryReport {
        .all(request, .deferred, dsn: "4.4.1", text: "connect to mx[192.0.2.1]:25: Connection refused")
    }

    func eventually(timeout: Double = 90, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return await condition()
    }

    @Test("a delivered message is logged as Postfix does and removed")
    func deliveredAndRemoved() async throws {
        let harness = try Harness { request, _ in Self.sent(request) }
        harness.start()
        let id = try await harness.submit(["a@remote.example", "b@remote.example"])
        #expect(await eventually { harness.logs.lines.contains("qmgr: \(id): removed") })
        await harness.stop()
        #expect(harness.files(in: .active).isEmpty && harness.files(in: .deferred).isEmpty)
        #expect(harness.agent.requests.count == 1, "two recipients of one domain go in one request")
        let line = try #require(harness.logs.lines.first { $0.contains("to=<a@remote.example>") })
        #expect(line.contains(#/^smtp: [0-9A-Za-z]+: to=<a@remote.example>, relay=mx\[192\.0\.2\.1\]:25, delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/0\.02/0\.01, dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as X\)$/#), "\(line)")
        #expect(harness.notices.sent.isEmpty)
    }

    @Test("recipients already delivered are never sent again; the deferred one is retried after the backoff")
    func onlyUnfinishedRecipientsAreRetried() async throws {
        let harness = try Harness { request, call in
            if call == 1 {
                return DeliveryReport(results: [
                    RecipientResult(index: 0, status: .sent, dsn: "2.0.0", text: "250 ok", relay: "mx[192.0.2.1]:25", remoteMTA: "dns; mx"),
                    RecipientResult(index: 1, status: .deferred, dsn: "4.2.2", text: "host mx said: 452 mailbox full", relay: "mx[192.0.2.1]:25", remoteMTA: "dns; mx"),
                ])
            }
            return Self.sent(request)
        }
        harness.start()
        let id = try await harness.submit(["a@remote.example", "b@remote.example"])
        #expect(await eventually { harness.files(in: .deferred) == [id.text] })
        #expect(await eventually { harness.logs.lines.contains("qmgr: \(id): removed") })
        await harness.stop()
        let requests = harness.agent.requests
        #expect(requests.count == 2)
        #expect(requests.last?.recipients.map(\.address) == ["b@remote.example"])
        #expect(harness.logs.lines.contains { $0.contains("to=<b@remote.example>") && $0.contains("status=deferred (host mx said: 452 mailbox full)") })
    }

    @Test("a bounce and an expired deferral go to the notice sender, then the message is removed")
    func bouncesAndExpiry() async throws {
        let settings = SchedulerSettings(minimalBackoff: 1, maximalBackoff: 1, queueRunDelay: 1, maximalLifetime: 0)
        let harness = try Harness(settings: settings) { request, _ in
            DeliveryReport(results: request.recipients.map {
                $0.address.hasPrefix("gone")
                    ? RecipientResult(index: $0.index, status: .bounced, dsn: "5.1.1", text: "host mx said: 550 5.1.1 unknown user", relay: "mx[192.0.2.1]:25", remoteMTA: "dns; mx")
                    : RecipientResult(index: $0.index, status: .deferred, dsn: "4.4.1", text: "connect to mx[192.0.2.1]:25: Connection refused", relay: "mx[192.0.2.1]:25")
            })
        }
        harness.start()
        let id = try await harness.submit(["gone@remote.example", "slow@remote.example"])
        #expect(await eventually { harness.logs.lines.contains("qmgr: \(id): removed") })
        await harness.stop()
        #expect(harness.logs.lines.contains("qmgr: \(id): from=<sender@example.com>, status=expired, returned to sender"))
        let sentNotices = harness.notices.sent
        #expect(sentNotices.count == 1)
        #expect(sentNotices.map(\.kind) == [.failure])
        #expect(sentNotices.map { $0.recipients.sorted() } == [[0, 1]])
        #expect(harness.logs.lines.contains { $0.hasPrefix("qmgr: \(id): sender non-delivery notification: ") })
    }

    @Test("soft_bounce turns a 5xx into a deferral with a 4.x.x status")
    func softBounce() async throws {
        let settings = SchedulerSettings(minimalBackoff: 100, maximalBackoff: 100, softBounce: true)
        let harness = try Harness(settings: settings) { request, _ in
            .all(request, .bounced, dsn: "5.1.1", text: "host mx said: 550 5.1.1 unknown user")
        }
        harness.start()
        let id = try await harness.submit(["gone@remote.example"])
        #expect(await eventually { harness.files(in: .deferred) == [id.text] })
        await harness.stop()
        #expect(harness.logs.lines.contains { $0.contains("dsn=4.1.1, status=deferred (host mx said: 550 5.1.1 unknown user)") })
        #expect(harness.notices.sent.isEmpty)
        let snapshot = try #require(harness.store.list([.deferred]).messages.first)
        #expect(snapshot.recipients[0].status == .deferred)
        let next = try #require(snapshot.recipients[0].nextAttempt)
        #expect(next.seconds - snapshot.arrival.seconds >= 100, "the backoff is minimal_backoff_time for a new message")
    }

    @Test("no more deliveries to one destination at once than its concurrency window allows")
    func destinationConcurrency() async throws {
        let settings = SchedulerSettings(initialConcurrency: 2, concurrencyLimit: 3, recipientLimit: 2)
        let harness = try Harness(settings: settings) { request, _ in
            try? await Task.sleep(nanoseconds: 30_000_000)
            return Self.sent(request)
        }
        harness.start()
        var ids: [QueueID] = []
        for _ in 0..<12 { ids.append(try await harness.submit(["a@remote.example", "b@remote.example", "c@remote.example"])) }
        #expect(await eventually { ids.allSatisfy { id in harness.logs.lines.contains("qmgr: \(id): removed") } })
        await harness.stop()
        #expect(harness.agent.mostInParallel <= 3)
        #expect(harness.agent.mostInParallel >= 2)
        #expect(harness.agent.requests.allSatisfy { $0.recipients.count <= 2 }, "recipient limit 2")
        #expect(harness.agent.requests.count == 24)
    }

    @Test("a dead destination's mail is deferred without a try until the backoff passes")
    func deadDestination() async throws {
        let settings = SchedulerSettings(minimalBackoff: 60, maximalBackoff: 60, initialConcurrency: 1)
        let harness = try Harness(settings: settings) { request, _ in Self.refused(request) }
        harness.start()
        let first = try await harness.submit(["a@remote.example"])
        #expect(await eventually { harness.files(in: .deferred) == [first.text] })
        let second = try await harness.submit(["b@remote.example"])
        #expect(await eventually { harness.files(in: .deferred).contains(second.text) })
        await harness.stop()
        #expect(harness.agent.requests.count == 1, "the second message was not tried")
        #expect(harness.logs.lines.contains {
            $0.contains("to=<b@remote.example>") && $0.contains("status=deferred (delivery temporarily suspended: connect to mx[192.0.2.1]:25: Connection refused)")
        })
    }

    @Test("a message deferred again and again has its journal compacted, keeping each recipient's state")
    func deferredJournalIsCompacted() async throws {
        let reason = "host mx said: 451 4.3.0 try again later " + String(repeating: "x", count: 200)
        // The server answered (remoteMTA), so the destination is not suspended between attempts.
        let harness = try Harness(compactionThreshold: 2000) { request, _ in
            DeliveryReport(results: request.recipients.map {
                RecipientResult(index: $0.index, status: .deferred, dsn: "4.3.0", text: reason, relay: "mx[192.0.2.1]:25", remoteMTA: "dns; mx")
            })
        }
        harness.start()
        let id = try await harness.submit(["a@remote.example", "b@remote.example", "c@remote.example"])
        // Each attempt appends about 3 × 250 bytes; twelve would be 9 KB uncompacted.
        while harness.agent.requests.count < 12 {
            #expect(await eventually { harness.files(in: .deferred) == [id.text] })
            await harness.manager.handle(.flushDeferred)
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(await eventually { harness.logs.lines.filter { $0.contains("status=deferred") }.count >= 36 })
        await harness.stop()
        let message = try harness.store.open(id)
        defer { message.close() }
        #expect(message.journalSize < 2000 + 1000, "compacted: \(message.journalSize) bytes of journal")
        for recipient in message.snapshot.recipients {
            #expect(recipient.status == .deferred && recipient.attempts >= 12 && recipient.reason == reason)
        }
        #expect(!harness.logs.lines.contains { $0.contains("cannot compact") })
    }

    @Test("defer_transports holds mail; the error transport bounces; a flush delivers the held mail")
    func deferTransportsErrorAndFlush() async throws {
        let settings = SchedulerSettings(minimalBackoff: 1, maximalBackoff: 2, queueRunDelay: 1, deferTransports: ["held"])
        let harness = try Harness(settings: settings) { request, _ in Self.sent(request) }
        harness.start()
        let held = try await harness.submit(["x@held.example"])
        let gone = try await harness.submit(["y@gone.example"])
        #expect(await eventually { harness.files(in: .deferred) == [held.text] })
        #expect(await eventually { harness.logs.lines.contains("qmgr: \(gone): removed") })
        #expect(harness.logs.lines.contains { $0.contains("to=<x@held.example>") && $0.contains("dsn=4.3.2, status=deferred (deferred transport)") })
        #expect(harness.logs.lines.contains { $0.contains("to=<y@gone.example>") && $0.contains("dsn=5.1.1, status=bounced (no such domain here)") })
        #expect(harness.notices.sent.map(\.kind) == [.failure])
        #expect(harness.agent.requests.isEmpty)
        await harness.manager.handle(.flushDeferred)
        #expect(await eventually { harness.logs.lines.contains("qmgr: \(held): removed") })
        #expect(harness.agent.requests.map(\.transport) == ["held"])
        await harness.stop()
    }

    @Test("recovered messages: active ones at once, deferred ones when due; NOTIFY=NEVER gets no bounce")
    func recoveryAndNotifyNever() async throws {
        let harness = try Harness { request, _ in .all(request, .bounced, dsn: "5.1.1", text: "unknown user") }
        let envelope = QueueEnvelope(sender: "s@example.com", recipients: [QueueRecipient(address: "n@remote.example", notify: .never)])
        let writer = try harness.store.makeWriter(envelope: envelope)
        try writer.append(Array("Subject: x\r\n\r\ny\r\n".utf8))
        let id = try await harness.store.commit(writer)
        let report = try harness.store.recover()
        harness.start(recovered: report.messages)
        #expect(await eventually { harness.logs.lines.contains("qmgr: \(id): removed") })
        await harness.stop()
        #expect(harness.notices.sent.isEmpty)
    }

    @Test func backoffIsTheAgeBetweenTheBounds() {
        let settings = SchedulerSettings(minimalBackoff: 300, maximalBackoff: 4000)
        #expect(settings.backoff(age: 0) == 300)
        #expect(settings.backoff(age: 1000) == 1000)
        #expect(settings.backoff(age: 100_000) == 4000)
        #expect(settings.lifetime(sender: "") == settings.bounceLifetime)
    }

    @Test func perTransportLimitsFromMainCf() throws {
        let text = """
            default_destination_concurrency_limit = 7
            smtp_destination_concurrency_limit = 3
            mine_destination_recipient_limit = 9
            local_destination_recipient_limit = 1
            """
        let configuration = Configuration(
            directory: "/etc/sealpost", main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: "master.cf", bytes: []),
            host: HostFacts(hostname: "mx", interfaceAddresses: [], processID: 1))
        let settings = SchedulerSettings(configuration.global, transports: ["smtp", "mine", "virtual", "local"])
        #expect(settings.concurrencyLimit(for: "smtp") == 3)
        #expect(settings.concurrencyLimit(for: "virtual") == 7)
        #expect(settings.recipientLimit(for: "mine") == 9)
        #expect(settings.recipientLimit(for: "local") == 1)
        #expect(settings.recipientLimit(for: "smtp") == 50)
    }

    @Test func delaysAreFormattedAsPostfixDoes() {
        #expect(QueueManager.format(0) == "0")
        #expect(QueueManager.format(0.004) == "0")
        #expect(QueueManager.format(0.1) == "0.1")
        #expect(QueueManager.format(1.25) == "1.25")
        #expect(QueueManager.format(12.6) == "13")
    }
}
