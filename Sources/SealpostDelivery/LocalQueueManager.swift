import Logging
import SealpostQueue
import SealpostRouting

/// Delivers queued messages to the destinations this version of Sealpost can reach: mailboxes of
/// `virtual_mailbox_domains` (Maildir, through ``VirtualDeliveryAgent``). Recipients of other
/// address classes stay in the queue, deferred with a reason that says why, until the delivery
/// agents for them arrive (the full scheduler with retries and bounces is Sealpost's next step).
///
/// Messages are handled one at a time, in the order they were committed; at start-up every
/// message already in the active queue is handled first.
public final class LocalQueueManager: Sendable {
    private let queue: QueueStore
    private let resolver: AddressResolver
    private let virtualAgent: VirtualDeliveryAgent?
    private let qmgrLog: Logger
    private let virtualLog: Logger
    private let pending: AsyncStream<QueueID>
    private let continuation: AsyncStream<QueueID>.Continuation

    public init(queue: QueueStore, resolver: AddressResolver, virtualAgent: VirtualDeliveryAgent?, qmgrLog: Logger, virtualLog: Logger) {
        self.queue = queue
        self.resolver = resolver
        self.virtualAgent = virtualAgent
        self.qmgrLog = qmgrLog
        self.virtualLog = virtualLog
        (pending, continuation) = AsyncStream.makeStream(of: QueueID.self)
    }

    /// A committed message to deliver.
    public func enqueue(_ id: QueueID) {
        continuation.yield(id)
    }

    /// Delivers `recovered` messages, then each enqueued one, until cancelled.
    public func run(recovered: [QueueID]) async {
        for id in recovered { await deliver(id) }
        for await id in pending {
            if Task.isCancelled { break }
            await deliver(id)
        }
    }

    /// Stops accepting new work.
    public func finish() {
        continuation.finish()
    }

    /// Tries every unfinished recipient of one message, records the outcomes, and removes the
    /// message once all are final.
    public func deliver(_ id: QueueID) async {
        let message: QueuedMessage
        do {
            message = try queue.open(id)
        } catch {
            qmgrLog.warning("\(id): cannot open queued message: \(error)")
            return
        }
        defer { message.close() }
        let snapshot = message.snapshot
        let arrival = Double(snapshot.arrival.microsecondsSinceEpoch) / 1_000_000
        var outcomes: [DeliveryOutcome] = []
        for index in snapshot.unfinishedRecipients {
            let recipient = snapshot.envelope.recipients[index]
            let started = QueueTimestamp.now()
            let (outcome, relay, log) = await deliver(recipient: recipient, of: message, sender: snapshot.envelope.sender)
            let finished = QueueTimestamp.now()
            outcomes.append(
                DeliveryOutcome(
                    recipients: [index], result: outcome.result, time: finished, dsnStatus: outcome.dsn, reason: outcome.text))
            let total = Double(finished.microsecondsSinceEpoch) / 1_000_000 - arrival
            let beforeDelivery = Double(started.microsecondsSinceEpoch) / 1_000_000 - arrival
            let transmission = Double(finished.microsecondsSinceEpoch - started.microsecondsSinceEpoch) / 1_000_000
            var line = "\(id): to=<\(recipient.address)>"
            if let original = recipient.originalAddress { line += ", orig_to=<\(original)>" }
            line += ", relay=\(relay), delay=\(Self.seconds(total)), delays=\(Self.seconds(beforeDelivery))/0/0/\(Self.seconds(transmission))"
            line += ", dsn=\(outcome.dsn), status=\(outcome.status) (\(outcome.text))"
            log.info("\(line)")
        }
        do {
            if !outcomes.isEmpty { try await message.record(outcomes) }
            let removed = try await message.retire { _, _ in
                // Delivery status notifications (bounces) arrive with the scheduler; until then the
                // log lines above are the record of undeliverable mail.
            }
            if removed { qmgrLog.info("\(id): removed") }
        } catch {
            qmgrLog.warning("\(id): cannot update the queue file: \(error)")
        }
    }

    private struct Outcome {
        var result: DeliveryOutcome.Result
        var dsn: String
        var text: String
        var status: String
    }

    private func deliver(recipient: QueueRecipient, of message: QueuedMessage, sender: String) async -> (Outcome, String, Logger) {
        let retry = QueueTimestamp(seconds: QueueTimestamp.now().seconds + 300)
        let resolution: AddressResolver.Resolution
        do {
            resolution = try resolver.resolve(recipient.address)
        } catch {
            return (Outcome(result: .deferred(until: retry), dsn: "4.3.0", text: "address resolver failure", status: "deferred"), "none", qmgrLog)
        }
        if resolution.isInvalid {
            return (Outcome(result: .bounced, dsn: "5.1.3", text: "bad address syntax", status: "bounced"), "none", qmgrLog)
        }
        switch (resolution.transport, resolution.addressClass) {
        case ("error", _):
            let (dsn, text) = Self.splitStatus(resolution.nexthop, default: "5.0.0")
            return (Outcome(result: .bounced, dsn: dsn, text: text, status: "bounced"), "none", qmgrLog)
        case ("discard", _):
            return (Outcome(result: .delivered(.delivered), dsn: "2.0.0", text: resolution.nexthop, status: "sent"), "none", qmgrLog)
        case ("virtual", _) where virtualAgent != nil:
            let reader: MessageContentReader
            do {
                reader = try message.content()
            } catch {
                return (Outcome(result: .deferred(until: retry), dsn: "4.3.0", text: "queue file read error: \(error)", status: "deferred"), "virtual", virtualLog)
            }
            defer { reader.close() }
            let delivered = virtualAgent!.deliver(recipient: resolution.recipient, sender: sender) { try reader.next() }
            if let warning = delivered.warning { virtualLog.warning("\(warning)") }
            let result: DeliveryOutcome.Result
            switch delivered.status {
            case .sent: result = .delivered(.delivered)
            case .bounced: result = .bounced
            case .deferred: result = .deferred(until: retry)
            }
            return (Outcome(result: result, dsn: delivered.dsn, text: delivered.text, status: delivered.status.rawValue), "virtual", virtualLog)
        default:
            let text = "delivery via the \(resolution.transport) transport is not available in this version of Sealpost; the message stays queued"
            return (Outcome(result: .deferred(until: retry), dsn: "4.3.0", text: text, status: "deferred"), "none", qmgrLog)
        }
    }

    /// `5.1.1 User unknown` → ("5.1.1", "User unknown"), as Postfix's error transport reads its next hop.
    static func splitStatus(_ text: String, default status: String) -> (String, String) {
        let parts = text.split(separator: " ", maxSplits: 1)
        if let first = parts.first, first.split(separator: ".").count == 3, first.allSatisfy({ $0.isNumber || $0 == "." }) {
            return (String(first), parts.count > 1 ? String(parts[1]) : "")
        }
        return (status, text)
    }

    /// Seconds as Postfix logs delays: two decimals for short ones, whole seconds above ten.
    static func seconds(_ value: Double) -> String {
        let clamped = max(0, value)
        if clamped == 0 { return "0" }
        if clamped >= 10 { return String(Int(clamped.rounded())) }
        let hundredths = Int((clamped * 100).rounded())
        if hundredths == 0 { return "0" }
        let whole = hundredths / 100
        let fraction = hundredths % 100
        var text = "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
