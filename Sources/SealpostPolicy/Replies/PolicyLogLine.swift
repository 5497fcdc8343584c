/// The log line of a policy event (smtpd_check.c, `log_whatsup()`):
///
///     NOQUEUE: reject: RCPT from host[192.0.2.1]: 554 5.7.1 <r@x>: Relay access denied; from=<s@y> to=<r@x> proto=ESMTP helo=<h>
///
/// The queue ID replaces NOQUEUE once the transaction has a queue file; `from=`, `to=`,
/// `proto=` and `helo=` appear when the session has them.
public struct PolicyLogLine: Sendable, Hashable {
    /// The queue ID, or nil for NOQUEUE.
    public var queueID: String?
    /// `reject`, `reject_warning`, `warn`, `info`, `hold`, `discard`, `filter`, `redirect`, `bcc`,
    /// `permit`, `hangup`, `defer` …
    public var action: String
    /// The protocol stage (`CONNECT`, `EHLO`, `MAIL`, `RCPT`, `DATA`, `END-OF-MESSAGE`, `ETRN`, …).
    public var stage: String
    /// `name[address]`, or `name[address]:port` with `smtpd_client_port_logging`.
    public var client: String
    /// The reply or action text.
    public var text: String
    /// The sender and recipient as they should appear: Postfix quotes them as in SMTP
    /// (`"user@x"@example.com`) unless `info_log_address_format = internal`.
    public var sender: String?
    public var recipient: String?
    public var protocolName: String?
    public var helo: String?

    public init(
        queueID: String?, action: String, stage: String, client: String, text: String, sender: String?,
        recipient: String?, protocolName: String?, helo: String?
    ) {
        self.queueID = queueID
        self.action = action
        self.stage = stage
        self.client = client
        self.text = text
        self.sender = sender
        self.recipient = recipient
        self.protocolName = protocolName
        self.helo = helo
    }

    /// The line, as Postfix writes it.
    public var formatted: String {
        var line = "\(queueID ?? "NOQUEUE"): \(action): \(stage) from \(client): \(text);"
        if let sender { line += " from=<\(sender)>" }
        if let recipient { line += " to=<\(recipient)>" }
        if let protocolName { line += " proto=\(protocolName)" }
        if let helo { line += " helo=<\(helo)>" }
        return line
    }
}
