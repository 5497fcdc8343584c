import Logging
import SealpostQueue
import SealpostRouting

/// Postfix's qmgr(8) for Sealpost's queue: takes committed messages, resolves each recipient to
/// a transport and next hop, hands them to the delivery agents with per-destination concurrency
/// and recipient limits, records every result in the message's journal before acting on it,
/// retries deferred mail with backoff, expires mail older than its lifetime, and sends the
/// notices (bounces, delay warnings, success reports) the senders are owed.
///
/// Crash safety: a recipient's result is on disk before the message moves on, so a restart never
/// delivers again to recipients already done; a message is removed only after its notices are
/// queued (`QueuedMessage.retire`).
public actor QueueManager {
    /// Finds the agent for a master.cf transport name; nil means "mail transport unavailable".
    public typealias AgentLookup = @Sendable (String) -> (any DeliveryAgent)?
    /// The logger for an agent's lines (`postfix/smtp`, `postfix/virtual`, …).
    public typealias AgentLogger = @Sendable (String) -> Logger

    /// A request to the queue manager, as Postfix's qmgr FIFO carries them.
    public enum Request: Sendable, Hashable {
        /// New mail in the active queue: scan it.
        case scanActive
        /// Deliver the deferred queue now (`sealpost queue flush`, ETRN, `sendmail -q`).
        case flushDeferred
        /// Scan every queue.
        case scanAll
    }

    private let store: QueueStore
    private let resolver: AddressResolver
    private let settings: SchedulerSettings
    private let agents: AgentLookup
    private let agentLogger: AgentLogger
    private let notices: (any NoticeSender)?
    private let log: Logger
    private let clock: @Sendable () -> QueueTimestamp

    /// Messages waiting for a delivery slot, in arrival order.
    private var ready: [QueueID] = []
    private var readyHead = 0
    private var queued: Set<QueueID> = []
    /// Messages being delivered now.
    private var inFlight: Set<QueueID> = []
    /// When messages being delivered now are to be tried next, once their delivery ends.
    private var afterDelivery: [QueueID: QueueTimestamp] = [:]
    /// Deferred messages and when they are due.
    private var deferred = DueHeap()
    /// Messages a flush asked for: `defer_transports` does not hold them back on their next try.
    private var flushing: Set<QueueID> = []
    /// Messages that were being delivered when a flush came: tried again as soon as they finish.
    private var flushAfterDelivery: Set<QueueID> = []
    private var destinations: [DestinationKey: DestinationState] = [:]
    private var slotWaiters: [DestinationKey: [CheckedContinuation<String?, Never>]] = [:]
    private var events: AsyncStream<Void>.Continuation?
    private var stopping = false

    public init(
        store: QueueStore, resolver: AddressResolver, settings: SchedulerSettings, agents: @escaping AgentLookup,
        agentLogger: @escaping AgentLogger, notices: (any NoticeSender)?, log: Logger,
        clock: @escaping @Sendable () -> QueueTimestamp = { .now() }
    ) {
        self.store = store
        self.resolver = resolver
        self.settings = settings
        self.agents = agents
        self.agentLogger = agentLogger
        self.notices = notices
        self.log = log
        self.clock = clock
    }

    // MARK: - Work in

    /// A message just committed to the active queue.
    public func enqueue(_ id: QueueID) {
        deferred.remove(id)
        if !inFlight.contains(id), queued.insert(id).inserted { ready.append(id) }
        events?.yield()
    }

    /// A message that needs no attempt before `time` (from recovery or a deferral). A message
    /// being delivered now is scheduled when its delivery ends.
    public func schedule(_ id: QueueID, at time: QueueTimestamp) {
        guard !queued.contains(id) else { return }
        if inFlight.contains(id) {
            afterDelivery[id] = time
            return
        }
        deferred.set(id, time)
        events?.yield()
    }

    /// Carries out one request from the qmgr FIFO.
    public func handle(_ request: Request) {
        switch request {
        case .scanActive:
            scan(.active)
        case .flushDeferred:
            scan(.deferred)
            for id in deferred.removeAll() {
                flushing.insert(id)
                enqueue(id)
            }
            flushAfterDelivery.formUnion(inFlight)
        case .scanAll:
            scan(.active)
            scan(.deferred)
        }
        events?.yield()
    }

    /// Picks up files that other programs put in `queue` (requeue, release, sendmail).
    private func scan(_ queue: QueueName) {
        let ids: [QueueID]
        do { ids = try store.ids(in: queue) } catch {
            log.warning("scan of the \(queue) queue failed: \(error)")
            return
        }
        for id in ids where !inFlight.contains(id) && !queued.contains(id) {
            if queue == .active {
                enqueue(id)
            } else if deferred[id] == nil {
                // Found on a scan: its time is in the file; opening it tells. Try it at the next run.
                deferred.set(id, clock())
            }
        }
    }

    // MARK: - Running

    /// Takes the messages start-up recovery found: active ones are delivered first, deferred ones
    /// when they are due, held ones not at all.
    public func adopt(_ recovered: [RecoveredMessage]) {
        for message in recovered {
            switch message.queue {
            case .active: enqueue(message.id)
            case .deferred: schedule(message.id, at: message.nextAttempt ?? clock())
            default: break
            }
        }
    }

    /// Delivers the recovered messages and everything that arrives after, until cancelled.
    public func run(recovered: [RecoveredMessage] = []) async {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        events = continuation
        adopt(recovered)
        await withDiscardingTaskGroup { group in
            group.addTask { [weak self] in await self?.wakeUpPeriodically() }
            var iterator = stream.makeAsyncIterator()
            repeat {
                if Task.isCancelled || stopping { break }
                promoteDueMessages()
                while let id = nextReady() {
                    inFlight.insert(id)
                    group.addTask { [weak self] in
                        await self?.deliverMessage(id)
                        await self?.finished(id)
                    }
                }
            } while await iterator.next() != nil
            group.cancelAll()
        }
        events = nil
    }

    /// Stops starting deliveries; the ones under way finish.
    public func finish() {
        stopping = true
        events?.finish()
    }

    private func nextReady() -> QueueID? {
        guard inFlight.count < settings.activeLimit, readyHead < ready.count else { return nil }
        let id = ready[readyHead]
        readyHead += 1
        if readyHead > 1024, readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        queued.remove(id)
        return id
    }

    private func finished(_ id: QueueID) {
        inFlight.remove(id)
        flushing.remove(id)
        let next = afterDelivery.removeValue(forKey: id)
        if flushAfterDelivery.remove(id) != nil, next != nil {
            flushing.insert(id)
            enqueue(id)
        } else if let next {
            schedule(id, at: next)
        }
        events?.yield()
    }

    /// Moves deferred messages whose time has come to the ready list.
    private func promoteDueMessages() {
        let now = clock()
        for id in deferred.popDue(now) { enqueue(id) }
    }

    /// Wakes the run loop when the next deferred message is due, and at least every
    /// `queue_run_delay` (Postfix's deferred queue scan).
    private func wakeUpPeriodically() async {
        var lastScan = clock()
        while !Task.isCancelled {
            let now = clock()
            if now.seconds - lastScan.seconds >= Int64(max(1, settings.queueRunDelay)) {
                scan(.deferred)
                lastScan = now
            }
            let next = deferred.earliest()
            var wait = Int64(max(1, settings.queueRunDelay)) * 1_000_000
            if let next { wait = min(wait, max(0, next.microsecondsSinceEpoch - now.microsecondsSinceEpoch)) }
            wait = min(max(wait, 10_000), 1_000_000)
            try? await Task.sleep(nanoseconds: UInt64(wait) * 1000)
            if let next, next <= clock() { events?.yield() }
        }
    }

    // MARK: - Destination slots

    /// Waits for a delivery slot at `key`; returns the reason instead when the destination is dead.
    private func acquire(_ key: DestinationKey) async -> String? {
        var state = destinations[key] ?? DestinationState(
            initial: settings.initialConcurrency, limit: settings.concurrencyLimit(for: key.transport))
        if let reason = state.suspension(now: clock().seconds) {
            destinations[key] = state
            return reason
        }
        if state.hasRoom {
            state.active += 1
            destinations[key] = state
            return nil
        }
        destinations[key] = state
        return await withCheckedContinuation { continuation in
            slotWaiters[key, default: []].append(continuation)
        }
    }

    /// Gives the slot back with what the delivery told about the destination.
    private func release(_ key: DestinationKey, reached: Bool, failure: String?) {
        guard var state = destinations[key] else { return }
        state.active -= 1
        var dead = false
        if reached {
            state.succeeded()
        } else {
            dead = state.failed(
                reason: failure ?? "destination unreachable", now: clock().seconds,
                failedCohortLimit: settings.failedCohortLimit, suspendFor: settings.minimalBackoff)
        }
        var waiters = slotWaiters[key] ?? []
        if dead, let reason = state.suspended?.reason {
            for waiter in waiters { waiter.resume(returning: reason) }
            waiters = []
        }
        while !waiters.isEmpty, state.hasRoom {
            state.active += 1
            waiters.removeFirst().resume(returning: nil)
        }
        slotWaiters[key] = waiters.isEmpty ? nil : waiters
        destinations[key] = state
    }

    // MARK: - One message

    private func deliverMessage(_ id: QueueID) async {
        let message: QueuedMessage
        do {
            message = try store.open(id)
        } catch {
            switch error.code {
            case .notFound, .corrupt: break
            case .busy: schedule(id, at: clock().adding(seconds: 5))
            default:
                log.warning("\(id): cannot open the queue file: \(error)")
                schedule(id, at: clock().adding(seconds: Int64(settings.minimalBackoff)))
            }
            return
        }
        defer { message.close() }
        if message.queue == .hold { return }
        let attempt = MessageAttempt(message: message, started: clock())
        if message.queue == .deferred {
            log.info("\(id): from=<\(message.envelope.sender)>, size=\(message.contentLength), nrcpt=\(message.envelope.recipients.count) (queue active)")
        }
        let batches = plan(attempt)
        let outcomes = await withTaskGroup(of: [LoggedResult].self) { group in
            for batch in batches {
                group.addTask { await self.run(batch, attempt) }
            }
            var all: [LoggedResult] = []
            for await results in group { all += results }
            return all
        }
        await conclude(attempt, outcomes)
    }

    /// One message's attempt: its handle and when the queue manager took it.
    private struct MessageAttempt: Sendable {
        var message: QueuedMessage
        var started: QueueTimestamp
    }

    /// Recipients sharing a destination, or recipients settled without an agent.
    private enum Batch: Sendable {
        case deliver(DestinationKey, [DeliveryRequest.Recipient])
        case settled([RecipientResult], logTransport: String)
    }

    /// A result with what the log line needs.
    private struct LoggedResult: Sendable {
        var result: RecipientResult
        var transport: String
        var agentStarted: QueueTimestamp
        var setup: Double
        var transmission: Double
    }

    /// Resolves the unfinished recipients and groups them by destination.
    private func plan(_ attempt: MessageAttempt) -> [Batch] {
        let snapshot = attempt.message.snapshot
        let flushed = flushing.contains(snapshot.id)
        var groups: [DestinationKey: [DeliveryRequest.Recipient]] = [:]
        var order: [DestinationKey] = []
        var settled: [RecipientResult] = []
        for index in snapshot.unfinishedRecipients {
            let recipient = snapshot.envelope.recipients[index]
            let resolution: AddressResolver.Resolution
            do {
                resolution = try resolver.resolve(recipient.address)
            } catch {
                settled.append(RecipientResult(index: index, status: .deferred, dsn: "4.3.0", text: "address resolver failure", relay: "none"))
                continue
            }
            if resolution.isInvalid {
                settled.append(RecipientResult(index: index, status: .bounced, dsn: "5.1.3", text: "bad address syntax", relay: "none"))
                continue
            }
            if settings.deferTransports.contains(resolution.transport), !flushed {
                settled.append(RecipientResult(index: index, status: .deferred, dsn: "4.3.2", text: "deferred transport", relay: "none"))
                continue
            }
            let key = DestinationKey(transport: resolution.transport, nexthop: resolution.nexthop)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(
                DeliveryRequest.Recipient(
                    index: index, address: resolution.recipient,
                    originalAddress: recipient.originalAddress ?? (resolution.recipient != recipient.address ? recipient.address : nil),
                    notify: recipient.notify, originalRecipient: recipient.originalRecipient))
        }
        var batches: [Batch] = settled.isEmpty ? [] : [.settled(settled, logTransport: "qmgr")]
        for key in order {
            let recipients = groups[key]!
            let limit = settings.recipientLimit(for: key.transport)
            var start = 0
            while start < recipients.count {
                batches.append(.deliver(key, Array(recipients[start..<min(start + limit, recipients.count)])))
                start += limit
            }
        }
        return batches
    }

    private func run(_ batch: Batch, _ attempt: MessageAttempt) async -> [LoggedResult] {
        switch batch {
        case .settled(let results, let transport):
            let now = clock()
            return results.map { LoggedResult(result: $0, transport: transport, agentStarted: now, setup: 0, transmission: 0) }
        case .deliver(let key, let recipients):
            let message = attempt.message
            guard let agent = agents(key.transport) else {
                let now = clock()
                return recipients.map {
                    LoggedResult(
                        result: RecipientResult(index: $0.index, status: .deferred, dsn: "4.3.0", text: "mail transport unavailable", relay: "none"),
                        transport: "qmgr", agentStarted: now, setup: 0, transmission: 0)
                }
            }
            if let reason = await acquire(key) {
                let now = clock()
                return recipients.map {
                    LoggedResult(
                        result: RecipientResult(
                            index: $0.index, status: .deferred, dsn: "4.4.1", text: "delivery temporarily suspended: \(reason)", relay: "none"),
                        transport: key.transport, agentStarted: now, setup: 0, transmission: 0)
                }
            }
            let started = clock()
            let request = DeliveryRequest(
                queueID: message.id, transport: key.transport, nexthop: key.nexthop, sender: message.envelope.sender,
                recipients: recipients, envelope: message.envelope, arrival: message.arrival, contentLength: message.contentLength,
                openContent: { () throws(QueueError) -> MessageContentReader in try message.content() })
            let report = await agent.deliver(request)
            let (reached, failure) = Self.destinationFeedback(report)
            release(key, reached: reached, failure: failure)
            var results = report.results
            // Mail an alias expansion hands back (remote members, owner- lists, :include:) is
            // queued before the recipient counts as done; if it cannot be, the recipient is retried.
            for forwarded in report.forwarded {
                guard let position = results.firstIndex(where: { $0.index == forwarded.originalIndex }), results[position].status == .sent
                else { continue }
                do {
                    let id = try await queueForwarded(forwarded, of: message)
                    results[position].text += results[position].text.hasSuffix("forwarded") ? " as \(id)" : "; forwarded as \(id)"
                } catch {
                    results[position] = RecipientResult(
                        index: forwarded.originalIndex, status: .deferred, dsn: "4.3.0",
                        text: "cannot queue forwarded mail: \(error)", relay: results[position].relay)
                }
            }
            // An agent that forgot a recipient must not lose it: defer it.
            let answered = Set(results.map(\.index))
            for recipient in recipients where !answered.contains(recipient.index) {
                results.append(
                    RecipientResult(
                        index: recipient.index, status: .deferred, dsn: "4.3.0", text: "delivery agent gave no result", relay: "none"))
            }
            return results.filter { result in recipients.contains { $0.index == result.index } }.map {
                LoggedResult(
                    result: $0, transport: key.transport, agentStarted: started, setup: report.setupSeconds,
                    transmission: report.transmissionSeconds)
            }
        }
    }

    /// Commits a new message for addresses an alias expansion produced: its header lines, then
    /// the original content, from the sender the expansion chose (the original sender, or an
    /// `owner-` address).
    private func queueForwarded(_ forwarded: ForwardedMail, of message: QueuedMessage) async throws -> QueueID {
        var envelope = message.envelope
        envelope.arrival = nil
        envelope.sender = forwarded.sender
        envelope.recipients = forwarded.recipients
        envelope.envelopeID = forwarded.envelopeID
        envelope.returnContent = forwarded.returnContent
        let writer = try store.makeWriter(envelope: envelope)
        try writer.append(forwarded.headerLines.map { $0 + "\r\n" }.joined())
        let reader = try message.content()
        defer { reader.close() }
        while let chunk = try reader.next() { try writer.append(chunk) }
        let id = try await store.commit(writer)
        log.info("\(id): from=<\(forwarded.sender)>, size=\(writer.contentLength), nrcpt=\(forwarded.recipients.count) (queue active)")
        enqueue(id)
        return id
    }

    /// Whether a delivery reached its destination: any recipient sent or refused by the server
    /// (a remote MTA answered) counts; all deferred without a remote answer is a failure whose
    /// first text says why.
    static func destinationFeedback(_ report: DeliveryReport) -> (reached: Bool, failure: String?) {
        if report.results.isEmpty { return (true, nil) }
        if report.results.contains(where: { $0.status != .deferred || $0.remoteMTA != nil }) { return (true, nil) }
        return (false, report.results.first?.text)
    }

    /// Records the results, logs them, and moves the message on: retired, deferred, or expired.
    private func conclude(_ attempt: MessageAttempt, _ results: [LoggedResult]) async {
        let message = attempt.message
        let id = message.id
        let now = clock()
        let age = Int(now.seconds - message.arrival.seconds)
        let expired = age >= settings.lifetime(sender: message.envelope.sender)
        let retry = now.adding(seconds: Int64(settings.backoff(age: age)))
        var outcomes: [DeliveryOutcome] = []
        var expiredAny = false
        for logged in results {
            var result = logged.result
            if result.status == .bounced, settings.softBounce {
                result.status = .deferred
                if result.dsn.hasPrefix("5") { result.dsn = "4" + result.dsn.dropFirst() }
            }
            let outcome: DeliveryOutcome.Result
            switch result.status {
            case .sent: outcome = .delivered(result.action)
            case .bounced: outcome = .bounced
            case .deferred where expired:
                outcome = .bounced
                expiredAny = true
            case .deferred: outcome = .deferred(until: retry)
            }
            outcomes.append(
                DeliveryOutcome(
                    recipients: [result.index], result: outcome, time: now, dsnStatus: result.dsn,
                    reason: result.text, remoteMTA: result.remoteMTA))
            logDelivery(message, logged, result: result, now: now, queueEntered: attempt.started)
        }
        let removed: Bool
        do {
            // A message this attempt finished is removed at once, without syncing the record.
            removed = try await message.recordRemovingIfDone(outcomes)
        } catch {
            log.warning("\(id): cannot record delivery results: \(error); the message stays queued")
            schedule(id, at: now.adding(seconds: Int64(settings.minimalBackoff)))
            return
        }
        if expiredAny { log.info("\(id): from=<\(message.envelope.sender)>, status=expired, returned to sender") }
        if removed {
            log.info("\(id): removed")
            return
        }

        do {
            try await sendDelayWarningIfDue(message, age: age)
            let removed = try await message.retire { snapshot, due in
                try await self.sendNotices(due, for: snapshot, message: message)
            }
            if removed {
                log.info("\(id): removed")
                return
            }
            if message.queue == .active { try await message.move(to: .deferred) }
            await Self.compactJournal(message, log: log)
            schedule(id, at: message.snapshot.nextAttempt ?? retry)
        } catch {
            log.warning("\(id): cannot update the queue file: \(error)")
            schedule(id, at: now.adding(seconds: Int64(settings.minimalBackoff)))
        }
    }

    /// Rewrites a deferred message's file once its journal outgrows `journalCompactionThreshold`:
    /// every attempt appends a record per recipient, so mail deferred for days would otherwise
    /// carry, and recovery re-read, thousands of them. Off the actor, as it copies and syncs the
    /// file; a failure only leaves the journal long.
    private static func compactJournal(_ message: QueuedMessage, log: Logger) async {
        do {
            try message.compactIfNeeded()
        } catch {
            log.warning("\(message.id): cannot compact the queue file: \(error)")
        }
    }

    private func logDelivery(_ message: QueuedMessage, _ logged: LoggedResult, result: RecipientResult, now: QueueTimestamp, queueEntered: QueueTimestamp) {
        let recipient = message.envelope.recipients[result.index]
        let total = Self.seconds(between: message.arrival, and: now)
        let beforeQueue = Self.seconds(between: message.arrival, and: queueEntered)
        let inQueue = Self.seconds(between: queueEntered, and: logged.agentStarted)
        var line = "\(message.id): to=<\(recipient.address)>"
        if let original = recipient.originalAddress, original != recipient.address { line += ", orig_to=<\(original)>" }
        line += ", relay=\(result.relay), delay=\(Self.format(total))"
        line += ", delays=\(Self.format(beforeQueue))/\(Self.format(inQueue))/\(Self.format(logged.setup))/\(Self.format(logged.transmission))"
        line += ", dsn=\(result.dsn), status=\(result.status.rawValue) (\(result.text))"
        let logger = logged.transport == "qmgr" ? log : agentLogger(logged.transport)
        if let warning = result.warning { logger.warning("\(warning)") }
        logger.info("\(line)")
    }

    // MARK: - Notices

    private func sendNotices(_ due: [NotificationKinds: [Int]], for snapshot: MessageSnapshot, message: QueuedMessage) async throws {
        guard let notices else { return }
        for kind in [NotificationKinds.failure, .success] {
            guard let recipients = due[kind], !recipients.isEmpty else { continue }
            for notice in try await notices.send(kind, recipients: recipients, of: snapshot, content: { () throws(QueueError) in try message.content() }) {
                log.info("\(message.id): \(notice.logName): \(notice.id)")
                enqueue(notice.id)
            }
        }
    }

    /// Sends one delay warning per recipient, once `delay_warning_time` has passed, to the
    /// senders who asked for it (NOTIFY=DELAY) or said nothing.
    private func sendDelayWarningIfDue(_ message: QueuedMessage, age: Int) async throws {
        guard settings.delayWarning > 0, age >= settings.delayWarning, let notices else { return }
        let snapshot = message.snapshot
        let recipients = snapshot.recipients.indices.filter { index in
            let state = snapshot.recipients[index]
            let notify = snapshot.envelope.recipients[index].notify
            return state.status == .deferred && !state.notified.contains(.delay) && notify.wants(.delay)
        }
        guard !recipients.isEmpty else { return }
        for notice in try await notices.send(.delay, recipients: recipients, of: snapshot, content: { () throws(QueueError) in try message.content() }) {
            log.info("\(message.id): \(notice.logName): \(notice.id)")
            enqueue(notice.id)
        }
        try await message.recordNotified(.delay, recipients: recipients)
    }

    // MARK: - Formatting

    static func seconds(between start: QueueTimestamp, and end: QueueTimestamp) -> Double {
        Double(end.microsecondsSinceEpoch - start.microsecondsSinceEpoch) / 1_000_000
    }

    /// Seconds as Postfix logs delays: up to two decimals below ten seconds, whole seconds above.
    static func format(_ value: Double) -> String {
        let clamped = max(0, value)
        if clamped >= 10 { return String(Int(clamped.rounded())) }
        let hundredths = Int((clamped * 100).rounded())
        if hundredths == 0 { return "0" }
        var text = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

/// Composes and queues the notices a message's sender is owed (RFC 3464 reports: bounces, delay
/// warnings, success reports, with postmaster copies as `notify_classes` says).
public protocol NoticeSender: Sendable {
    /// Queues the notices of `kind` about `recipients` of the message and returns them (none when
    /// nobody is owed one, such as a bounce of a bounce that `notify_classes` discards). Throws
    /// when a notice could not be queued: the message then stays, to try again.
    func send(
        _ kind: NotificationKinds, recipients: [Int], of snapshot: MessageSnapshot,
        content: @escaping @Sendable () throws(QueueError) -> MessageContentReader
    ) async throws -> [QueuedNotice]
}

/// A notice committed to the queue, and what the log calls it.
public struct QueuedNotice: Sendable, Hashable {
    public var id: QueueID
    /// `sender non-delivery notification`, `postmaster delay notification`, …
    public var logName: String

    public init(id: QueueID, logName: String) {
        self.id = id
        self.logName = logName
    }
}
