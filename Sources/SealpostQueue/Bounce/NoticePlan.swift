/// The kind of delivery status notification, one per Postfix bounce template.
public enum NoticeKind: Sendable, Hashable {
    /// Permanent failure: "Undelivered Mail Returned to Sender".
    case failure
    /// Still being retried: "Delayed Mail (still being retried)".
    case delay
    /// Delivered, relayed or expanded, for NOTIFY=SUCCESS: "Successful Mail Delivery Report".
    case success
}

/// One notification to write about a queued message: to whom, from which envelope sender, and
/// in which form. ``NoticePlanner`` makes them; ``DSNComposer`` writes them.
public struct PlannedNotice: Sendable, Hashable {
    /// Who the notice is for.
    public enum Audience: Sendable, Hashable {
        /// The original envelope sender (a "single bounce").
        case sender
        /// A copy for the postmaster of a notice that also went to the sender
        /// (`notify_classes` has `bounce` or `delay`).
        case postmasterCopy
        /// The notice about mail from the null sender, which has no sender to go to: it goes to
        /// the postmaster instead (a "double bounce").
        case postmasterInstead
    }

    /// Which of the recipients handed to the composer the notice reports.
    public enum RecipientFilter: Sendable, Hashable {
        /// Those whose NOTIFY asks for this kind of notice (RFC 3461; no NOTIFY means
        /// FAILURE,DELAY).
        case notify
        /// All of them, whatever NOTIFY says (postmaster notices: DSN_NOTIFY_OVERRIDE).
        case all
    }

    public var kind: NoticeKind
    public var audience: Audience
    /// The envelope sender of the notice: empty (`<>`) for notices to the sender, the
    /// double-bounce address for notices to the postmaster, so that a failing postmaster notice
    /// is dropped instead of bouncing again.
    public var envelopeSender: String
    /// The envelope recipient and `To:` of the notice.
    public var recipient: String
    /// Whether the quoted original may be the full message (still cut to headers above
    /// `bounce_size_limit`), or is its headers only.
    public var returnContent: DSNReturn
    public var filter: RecipientFilter

    public init(
        kind: NoticeKind, audience: Audience, envelopeSender: String, recipient: String, returnContent: DSNReturn,
        filter: RecipientFilter
    ) {
        self.kind = kind
        self.audience = audience
        self.envelopeSender = envelopeSender
        self.recipient = recipient
        self.returnContent = returnContent
        self.filter = filter
    }

    /// Postmaster notices carry no boilerplate text and use the template's postmaster subject.
    public var isPostmasterNotice: Bool { audience != .sender }
}

/// Decides who gets which notice for a message, as Postfix's bounce(8) server does
/// (bounce_notify_service.c, bounce_warn_service.c, bounce_trace_service.c).
///
/// For an original sender S and `notify_classes` C:
///
/// | kind | S is a normal address | S is `<>` | S is the double-bounce address |
/// |---|---|---|---|
/// | failure | to S, RET as the client asked (default full); plus, with `bounce` in C, a headers-only copy to `bounce_notice_recipient` | with `bounce` or `2bounce` in C: full message to `2bounce_notice_recipient`; otherwise discarded | discarded (logged) |
/// | delay | to S, headers; plus, with `delay` in C, a headers-only copy to `delay_notice_recipient` | with `delay` in C: full message to `delay_notice_recipient`; otherwise nothing | nothing |
/// | success | to S, headers | with `2bounce` in C: to `2bounce_notice_recipient`; otherwise nothing | nothing |
///
/// Notices to the postmaster are sent from `double_bounce_sender@myhostname`; a notice about mail
/// from that address is never written, so a failing postmaster notice cannot loop.
public enum NoticePlanner {
    /// The notices to write about a message from `sender` (empty for `<>`) whose envelope asked
    /// for `requestedReturn` (RET), with the reason when Postfix would discard the notice.
    public static func plan(
        _ kind: NoticeKind, sender: String, requestedReturn: DSNReturn?, settings: BounceSettings
    ) -> (notices: [PlannedNotice], discarded: String?) {
        let classes = settings.notifyClasses
        let doubleBounce = settings.doubleBounceAddress
        if equalsIgnoringCase(sender, doubleBounce) {
            let what = kind == .failure ? "undeliverable postmaster notification discarded" : "no notice for a postmaster notification"
            return ([], what)
        }
        func notice(
            _ audience: PlannedNotice.Audience, from: String, to: String, _ content: DSNReturn,
            _ filter: PlannedNotice.RecipientFilter
        ) -> PlannedNotice {
            PlannedNotice(kind: kind, audience: audience, envelopeSender: from, recipient: to, returnContent: content, filter: filter)
        }
        if sender.isEmpty {
            switch kind {
            case .failure:
                guard classes.contains("bounce") || classes.contains("2bounce") else {
                    return ([], "bounce of a message from <> discarded: notify_classes has neither bounce nor 2bounce")
                }
                return ([notice(.postmasterInstead, from: doubleBounce, to: settings.doubleBounceNoticeRecipient, .full, .all)], nil)
            case .delay:
                guard classes.contains("delay") else { return ([], nil) }
                return ([notice(.postmasterInstead, from: doubleBounce, to: settings.delayNoticeRecipient, .full, .all)], nil)
            case .success:
                guard classes.contains("2bounce") else { return ([], "no success notice for a message from <>") }
                return ([notice(.postmasterInstead, from: doubleBounce, to: settings.doubleBounceNoticeRecipient, .headers, .notify)], nil)
            }
        }
        switch kind {
        case .failure:
            var notices = [notice(.sender, from: "", to: sender, requestedReturn ?? .full, .notify)]
            if classes.contains("bounce") {
                notices.append(notice(.postmasterCopy, from: doubleBounce, to: settings.bounceNoticeRecipient, .headers, .all))
            }
            return (notices, nil)
        case .delay:
            var notices = [notice(.sender, from: "", to: sender, .headers, .notify)]
            if classes.contains("delay") {
                notices.append(notice(.postmasterCopy, from: doubleBounce, to: settings.delayNoticeRecipient, .headers, .all))
            }
            return (notices, nil)
        case .success:
            return ([notice(.sender, from: "", to: sender, .headers, .notify)], nil)
        }
    }

    private static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        a.lowercased() == b.lowercased()
    }
}
