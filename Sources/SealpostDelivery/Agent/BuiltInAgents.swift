import SealpostQueue

/// Postfix's error(8) transport: every recipient bounces with the next hop's text
/// (`error:5.1.1 User unknown`), or is deferred when the text's status is 4.x.x.
public struct ErrorDeliveryAgent: DeliveryAgent {
    public init() {}

    public func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        let (dsn, text) = Self.splitStatus(request.nexthop, default: "5.0.0")
        return .all(request, dsn.hasPrefix("4") ? .deferred : .bounced, dsn: dsn, text: text.isEmpty ? "delivery failed" : text)
    }

    /// `5.1.1 User unknown` → ("5.1.1", "User unknown"), as Postfix's error transport reads its next hop.
    static func splitStatus(_ text: String, default status: String) -> (String, String) {
        let parts = text.split(separator: " ", maxSplits: 1)
        if let first = parts.first, first.split(separator: ".", omittingEmptySubsequences: false).count == 3,
            first.allSatisfy({ $0.isNumber || $0 == "." }), first.first == "4" || first.first == "5"
        {
            return (String(first), parts.count > 1 ? String(parts[1]) : "")
        }
        return (status, text)
    }
}

/// Postfix's discard(8) transport: every recipient counts as delivered; the next hop's text
/// is the log's reason.
public struct DiscardDeliveryAgent: DeliveryAgent {
    public init() {}

    public func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        .all(request, .sent, dsn: "2.0.0", text: request.nexthop.isEmpty ? "discarded" : request.nexthop)
    }
}

/// The virtual(8) agent as a ``DeliveryAgent``: each recipient's message is written to its
/// Maildir in turn.
public struct VirtualTransportAgent: DeliveryAgent {
    public let agent: VirtualDeliveryAgent

    public init(agent: VirtualDeliveryAgent) {
        self.agent = agent
    }

    public func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        var results: [RecipientResult] = []
        let started = QueueTimestamp.now()
        let agent = self.agent
        for recipient in request.recipients {
            results.append(await MailboxIO.run { Self.deliver(request, to: recipient, with: agent) })
        }
        let elapsed = Double(QueueTimestamp.now().microsecondsSinceEpoch - started.microsecondsSinceEpoch) / 1_000_000
        return DeliveryReport(results: results, transmissionSeconds: elapsed)
    }

    /// One recipient's Maildir delivery: blocking file work, run on ``MailboxIO``'s threads.
    private static func deliver(_ request: DeliveryRequest, to recipient: DeliveryRequest.Recipient, with agent: VirtualDeliveryAgent) -> RecipientResult {
        let reader: MessageContentReader
        do {
            reader = try request.openContent()
        } catch {
            return RecipientResult(index: recipient.index, status: .deferred, dsn: "4.3.0", text: "queue file read error: \(error)", relay: "virtual")
        }
        defer { reader.close() }
        let outcome = agent.deliver(recipient: recipient.address, sender: request.sender) { try reader.next() }
        let status: RecipientResult.Status =
            switch outcome.status {
            case .sent: .sent
            case .bounced: .bounced
            case .deferred: .deferred
            }
        return RecipientResult(
            index: recipient.index, status: status, dsn: outcome.dsn, text: outcome.text, relay: "virtual", warning: outcome.warning)
    }
}

/// Postfix's `retry` transport (error(8) run as retry): every recipient is deferred with the
/// next hop's text.
public struct RetryDeliveryAgent: DeliveryAgent {
    public init() {}

    public func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        let (dsn, text) = ErrorDeliveryAgent.splitStatus(request.nexthop, default: "4.0.0")
        return .all(request, .deferred, dsn: "4" + dsn.dropFirst(), text: text.isEmpty ? "delivery temporarily suspended" : text)
    }
}

/// A transport whose agent could not be set up (an alias table that cannot be opened, say):
/// its mail is deferred with the reason until the configuration is fixed and reloaded.
public struct UnavailableDeliveryAgent: DeliveryAgent {
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public func deliver(_ request: DeliveryRequest) async -> DeliveryReport {
        .all(request, .deferred, dsn: "4.3.0", text: reason)
    }
}
