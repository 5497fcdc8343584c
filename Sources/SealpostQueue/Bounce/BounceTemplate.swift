/// Postfix's built-in bounce templates (bounce_templates.c, bounce(5)): the subject lines and the
/// text that opens a notice to the sender. `postconf -b` prints the same text expanded.
///
/// Custom templates (`bounce_template_file`) are not supported yet.
struct BounceTemplate: Sendable {
    var subject: String
    /// Used for postmaster notices when set; the success template has none.
    var postmasterSubject: String?
    /// The text lines with `$myhostname`, `$delay_warning_time_hours` and
    /// `$maximal_queue_lifetime_days` still in them.
    var lines: [String]

    static func forKind(_ kind: NoticeKind) -> BounceTemplate {
        switch kind {
        case .failure: failure
        case .delay: delay
        case .success: success
        }
    }

    static let failure = BounceTemplate(
        subject: "Undelivered Mail Returned to Sender",
        postmasterSubject: "Postmaster Copy: Undelivered Mail",
        lines: [
            "This is the mail system at host $myhostname.",
            "",
            "I'm sorry to have to inform you that your message could not",
            "be delivered to one or more recipients. It's attached below.",
            "",
            "For further assistance, please send mail to postmaster.",
            "",
            "If you do so, please include this problem report. You can",
            "delete your own text from the attached returned message.",
            "",
            "                   The mail system",
        ])

    static let delay = BounceTemplate(
        subject: "Delayed Mail (still being retried)",
        postmasterSubject: "Postmaster Warning: Delayed Mail",
        lines: [
            "This is the mail system at host $myhostname.",
            "",
            "####################################################################",
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
            "####################################################################",
            "",
            "Your message could not be delivered for more than $delay_warning_time_hours hour(s).",
            "It will be retried until it is $maximal_queue_lifetime_days day(s) old.",
            "",
            "For further assistance, please send mail to postmaster.",
            "",
            "If you do so, please include this problem report. You can",
            "delete your own text from the attached returned message.",
            "",
            "                   The mail system",
        ])

    static let success = BounceTemplate(
        subject: "Successful Mail Delivery Report",
        postmasterSubject: nil,
        lines: [
            "This is the mail system at host $myhostname.",
            "",
            "Your message was successfully delivered to the destination(s)",
            "listed below. If the message was delivered to mailbox you will",
            "receive no further notifications. Otherwise you may still receive",
            "notifications of mail delivery errors from other systems.",
            "",
            "                   The mail system",
        ])

    // bounce_template.c, bounce_template_lookup(): a time parameter with a unit suffix expands to
    // the whole number of units (integer division, so 90 minutes is "1" hour).
    /// The text lines with the parameters expanded.
    func expandedLines(_ settings: BounceSettings) -> [String] {
        lines.map { line in
            line.replacing("$myhostname", with: settings.hostname)
                .replacing("$delay_warning_time_hours", with: String(settings.delayWarningTime / 3600))
                .replacing("$maximal_queue_lifetime_days", with: String(settings.maximalQueueLifetime / 86400))
        }
    }
}
