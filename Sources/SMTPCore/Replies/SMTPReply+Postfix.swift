/// Postfix's own wording for the replies the protocol layer decides on. Each names the line of
/// Postfix 3.7.11's `src/smtpd/smtpd.c` (or the file named) it comes from; 3.7.11 already carries the
/// smtpd_forbid_bare_newline code that Postfix 3.9 made the default.
extension SMTPReply {
    // The command loop, smtpd_proto().

    /// `500 5.5.2 Error: bad syntax` — an empty command line (smtpd.c:5881).
    public static let badSyntax = SMTPReply("500 5.5.2 Error: bad syntax")
    /// `500 5.5.2 Error: bad UTF-8 syntax` — a command that is not UTF-8 with smtputf8_enable (smtpd.c:5860).
    public static let badUTF8Syntax = SMTPReply("500 5.5.2 Error: bad UTF-8 syntax")
    /// `500 5.5.2 Error: command not recognized` — an unknown verb, EXPN, HELP (smtpd.c:5935).
    public static let commandNotRecognized = SMTPReply("500 5.5.2 Error: command not recognized")
    /// `221 2.7.0 Error: I can break rules, too. Goodbye.` — a "verb" that looks like a message header
    /// (`Subject:`), the sign of a client sending content as commands (smtpd.c:5910).
    public static let nonSMTPCommand = SMTPReply("221 2.7.0 Error: I can break rules, too. Goodbye.")
    /// `550 5.5.2 <myhostname> Error: bare <LF> received` — smtpd_forbid_bare_newline = reject, for a
    /// command ending in a bare LF (smtpd.c:5852) or message content with one (smtpd.c:3811); the code is
    /// `smtpd_forbid_bare_newline_reject_code` (550).
    public static func bareLineFeedReceived(myHostname: String, code: Int = 550) -> SMTPReply {
        SMTPReply(code: code, enhancedStatus: EnhancedStatusCode("5.5.2"), "\(myHostname) Error: bare <LF> received")
    }

    // Command syntax.

    /// `501 Syntax: HELO hostname` — no enhanced code, RFC 2034 exempts HELO/EHLO (smtpd.c:1806).
    public static let heloSyntax = SMTPReply("501 Syntax: HELO hostname")
    /// `501 Syntax: EHLO hostname` (smtpd.c:1893).
    public static let ehloSyntax = SMTPReply("501 Syntax: EHLO hostname")
    /// `501 5.5.4 Syntax: MAIL FROM:<address>` (smtpd.c:2562).
    public static let mailSyntax = SMTPReply("501 5.5.4 Syntax: MAIL FROM:<address>")
    /// `501 5.1.7 Bad sender address syntax` (smtpd.c:2588, 2612).
    public static let badSenderAddress = SMTPReply("501 5.1.7 Bad sender address syntax")
    /// `501 5.5.4 Syntax: RCPT TO:<address>` (smtpd.c:2956).
    public static let rcptSyntax = SMTPReply("501 5.5.4 Syntax: RCPT TO:<address>")
    /// `501 5.1.3 Bad recipient address syntax` (smtpd.c:2982, 2988; VRFY 4347).
    public static let badRecipientAddress = SMTPReply("501 5.1.3 Bad recipient address syntax")
    /// `501 5.5.4 Syntax: DATA` (smtpd.c:3344).
    public static let dataSyntax = SMTPReply("501 5.5.4 Syntax: DATA")
    /// `521 5.5.4 Syntax: BDAT count [LAST]` — 521: Postfix hangs up, as the next input would be content
    /// (smtpd.c:3964).
    public static let bdatSyntax = SMTPReply("521 5.5.4 Syntax: BDAT count [LAST]")
    /// `501 5.5.4 Syntax: RSET` (smtpd.c:4224).
    public static let rsetSyntax = SMTPReply("501 5.5.4 Syntax: RSET")
    /// `501 5.5.4 Syntax: VRFY address [SMTPUTF8]`; without ` [SMTPUTF8]` when smtputf8_enable = no (smtpd.c:4312).
    public static func vrfySyntax(smtputf8Enabled: Bool) -> SMTPReply {
        SMTPReply("501 5.5.4 Syntax: VRFY address" + (smtputf8Enabled ? " [SMTPUTF8]" : ""))
    }
    /// `500 Syntax: ETRN domain` — no enhanced code (smtpd.c:4412).
    public static let etrnSyntax = SMTPReply("500 Syntax: ETRN domain")
    /// `501 Error: invalid parameter syntax` — ETRN with a bad domain (smtpd.c:4428).
    public static let etrnInvalidParameter = SMTPReply("501 Error: invalid parameter syntax")
    /// `501 5.5.4 Syntax: STARTTLS` (smtpd.c:5324).
    public static let startTLSSyntax = SMTPReply("501 5.5.4 Syntax: STARTTLS")
    /// `501 5.5.4 Syntax: AUTH mechanism` (smtpd_sasl_proto.c:199).
    public static let authSyntax = SMTPReply("501 5.5.4 Syntax: AUTH mechanism")

    // ESMTP parameters.

    /// `555 5.5.4 Unsupported option: <parameter>` (smtpd.c:2691 for MAIL, 3029 for RCPT).
    public static func unsupportedOption(_ parameter: String) -> SMTPReply {
        SMTPReply(code: 555, enhancedStatus: EnhancedStatusCode("5.5.4"), "Unsupported option: \(parameter)")
    }
    /// `501 5.5.4 Bad message size syntax` (smtpd.c:2625).
    public static let badMessageSizeSyntax = SMTPReply("501 5.5.4 Bad message size syntax")
    /// `552 5.3.4 Message size exceeds file system imposed limit` — SIZE= beyond off_t (smtpd.c:2631).
    public static let messageSizeExceedsFileSystemLimit = SMTPReply("552 5.3.4 Message size exceeds file system imposed limit")
    /// `501 5.7.1 DSN support is disabled` — RET/ENVID/NOTIFY/ORCPT when DSN is not announced (smtpd.c:2664, 2678, 2997, 3010).
    public static let dsnDisabled = SMTPReply("501 5.7.1 DSN support is disabled")
    /// `501 5.5.4 Bad RET parameter syntax` (smtpd.c:2671).
    public static let badRETSyntax = SMTPReply("501 5.5.4 Bad RET parameter syntax")
    /// `501 5.5.4 Bad ENVID parameter syntax` (smtpd.c:2685).
    public static let badENVIDSyntax = SMTPReply("501 5.5.4 Bad ENVID parameter syntax")
    /// `503 5.5.4 Error: multiple AUTH= options` (smtpd_sasl_proto.c:246).
    public static let multipleAuthOptions = SMTPReply("503 5.5.4 Error: multiple AUTH= options")
    /// `501 5.5.4 Error: Bad NOTIFY parameter syntax` (smtpd.c:3003).
    public static let badNOTIFYSyntax = SMTPReply("501 5.5.4 Error: Bad NOTIFY parameter syntax")
    /// `501 5.5.4 Error: Bad ORCPT parameter syntax` (smtpd.c:3022).
    public static let badORCPTSyntax = SMTPReply("501 5.5.4 Error: Bad ORCPT parameter syntax")
    /// `553 5.6.7 Must declare SMTPUTF8 to send unicode address` — strict_smtputf8 = yes (smtpd.c:2768, 3050, 4354).
    public static let mustDeclareSMTPUTF8 = SMTPReply("553 5.6.7 Must declare SMTPUTF8 to send unicode address")

    // Replies the server sends for protocol-layer outcomes.

    /// `354 End data with <CR><LF>.<CR><LF>` (smtpd.c:3383).
    public static let startMailInput = SMTPReply("354 End data with <CR><LF>.<CR><LF>")
    /// `551 5.7.1 Null BDAT request` — `BDAT 0` without LAST (smtpd.c:3987).
    public static let nullBDATRequest = SMTPReply("551 5.7.1 Null BDAT request")
    /// `552 5.3.4 Chunk exceeds message size limit` (smtpd.c:4054).
    public static let chunkExceedsMessageSizeLimit = SMTPReply("552 5.3.4 Chunk exceeds message size limit")
    /// `552 5.3.4 Error: message file too big` — cleanup's CLEANUP_STAT_SIZE after DATA/BDAT
    /// (cleanup_strerror.c:72, via smtpd.c:3834).
    public static let messageFileTooBig = SMTPReply("552 5.3.4 Error: message file too big")
}
