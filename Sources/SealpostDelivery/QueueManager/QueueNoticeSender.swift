import Logging
import SealpostQueue

/// Queues the notices a sender is owed as new messages: what bounce(8) does for Postfix's
/// queue manager. `NoticePlanner` decides who gets what (`notify_classes`, double bounces),
/// `DSNComposer` writes each RFC 3464 report, and each is committed like any other message
/// before the caller records the notice as sent.
public struct QueueNoticeSender: NoticeSender {
    public let store: QueueStore
    public let settings: BounceSettings
    public let log: Logger

    public init(store: QueueStore, settings: BounceSettings, log: Logger) {
        self.store = store
        self.settings = settings
        self.log = log
    }

    public func send(
        _ kind: NotificationKinds, recipients: [Int], of snapshot: MessageSnapshot,
        content: @escaping @Sendable () throws(QueueError) -> MessageContentReader
    ) async throws -> [QueuedNotice] {
        let noticeKind: NoticeKind = kind == .delay ? .delay : kind == .success ? .success : .failure
        let (plans, discarded) = NoticePlanner.plan(
            noticeKind, sender: snapshot.envelope.sender, requestedReturn: snapshot.envelope.returnContent, settings: settings)
        if let discarded { log.info("\(snapshot.id): \(discarded)") }
        var queued: [QueuedNotice] = []
        for plan in plans {
            let reader = try content()
            defer { reader.close() }
            guard let notice = try DSNComposer.compose(plan, about: snapshot, recipients: recipients, settings: settings, reader: reader)
            else { continue }
            let envelope = QueueEnvelope(sender: notice.sender, recipients: notice.recipients.map { QueueRecipient(address: $0) })
            let writer = try store.makeWriter(envelope: envelope)
            try writer.append(notice.content)
            let id = try await store.commit(writer)
            log.info("\(id): from=<\(notice.sender)>, size=\(notice.content.count), nrcpt=\(notice.recipients.count) (queue active)")
            queued.append(QueuedNotice(id: id, logName: Self.logName(plan)))
        }
        return queued
    }

    /// Postfix's words for each notice in the original message's log line.
    static func logName(_ plan: PlannedNotice) -> String {
        let who = plan.audience == .sender ? "sender" : "postmaster"
        switch plan.kind {
        case .failure: return "\(who) non-delivery notification"
        case .delay: return "\(who) delay notification"
        case .success: return "\(who) delivery status notification"
        }
    }
}
