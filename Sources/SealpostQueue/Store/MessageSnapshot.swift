/// A queued message as the scheduler and `queue list` see it: envelope and recipient states,
/// without the content.
public struct MessageSnapshot: Sendable, Hashable {
    public var id: QueueID
    public var queue: QueueName
    public var envelope: QueueEnvelope
    public var arrival: QueueTimestamp
    /// The content's size in bytes (what `mailq` shows).
    public var contentLength: Int
    /// Index-aligned with `envelope.recipients`.
    public var recipients: [RecipientState]

    public init(
        id: QueueID, queue: QueueName, envelope: QueueEnvelope, arrival: QueueTimestamp, contentLength: Int,
        recipients: [RecipientState]
    ) {
        self.id = id
        self.queue = queue
        self.envelope = envelope
        self.arrival = arrival
        self.contentLength = contentLength
        self.recipients = recipients
    }

    /// Every recipient is delivered or bounced.
    public var isComplete: Bool { recipients.allSatisfy(\.status.isFinal) }

    /// The recipients still to be delivered (pending or deferred).
    public var unfinishedRecipients: [Int] { recipients.indices.filter { !recipients[$0].status.isFinal } }

    /// When the message should be tried next: nil when complete, the arrival time when some
    /// recipient was never tried, else the earliest retry time of a deferred recipient.
    public var nextAttempt: QueueTimestamp? {
        var earliest: QueueTimestamp?
        for state in recipients where !state.status.isFinal {
            let time = state.status == .pending ? arrival : (state.nextAttempt ?? arrival)
            earliest = earliest.map { min($0, time) } ?? time
        }
        return earliest
    }

    /// The notices the sender is owed and has not been sent, by kind: failure notices for bounced
    /// recipients (NOTIFY=FAILURE or no NOTIFY), success notices for delivered recipients with
    /// NOTIFY=SUCCESS. Delay warnings are the scheduler's to decide (they depend on time).
    public var dueNotices: [NotificationKinds: [Int]] {
        var due: [NotificationKinds: [Int]] = [:]
        for (index, state) in recipients.enumerated() {
            let notify = envelope.recipients[index].notify
            if state.status == .bounced, notify.wants(.failure), !state.notified.contains(.failure) {
                due[.failure, default: []].append(index)
            }
            if state.status == .delivered, notify.contains(.success), !notify.contains(.never),
                !state.notified.contains(.success)
            {
                due[.success, default: []].append(index)
            }
        }
        return due
    }
}
