import SealpostConfig
import SealpostRouting

/// The result of one restriction or list (smtpd_check.c, SMTPD_CHECK_DUNNO/OK/REJECT).
enum CheckStatus: Sendable, Hashable {
    case dunno, ok, reject
}

/// Ends the evaluation of a whole stage with a reply already formatted, as Postfix's
/// `longjmp(smtpd_check_buf, …)` does after a table or configuration error.
struct Abort: Error {
    let status: CheckStatus
}

/// One evaluation of a protocol stage: the session, the values the stage pushes (Postfix's
/// SMTPD_CHECK_PUSH of helo_name, sender, recipient, etrn_name), and what it produces.
struct Evaluation {
    let settings: PolicySettings
    let dns: any PolicyDNSResolver
    var session: PolicySession
    /// The protocol stage, Postfix's `state->where` (`RCPT`, `CONNECT`, …).
    let stage: String
    var helo: String?
    var sender: String?
    var recipient: String?
    var etrnDomain: String?

    var recursion = 0
    /// Postfix's `state->warn_if_reject`: the recursion level at which warn_if_reject was seen.
    var warnIfReject = 0
    /// The last reply formatted by ``reject(_:_:_:_:)`` (Postfix's `error_text`).
    var errorText = ""
    var log: [PolicyLogRecord] = []
    var hangUp = false

    init(settings: PolicySettings, dns: any PolicyDNSResolver, session: PolicySession, stage: String) {
        self.settings = settings
        self.dns = dns
        self.session = session
        self.stage = stage
        self.helo = session.heloName
        self.sender = session.sender
        self.recipient = nil
        self.etrnDomain = nil
    }

    var clientNameAddress: String {
        let client = session.client
        let base = "\(client.name)[\(client.address)]"
        return settings.clientPortLogging ? "\(base):\(client.port)" : base
    }

    // MARK: - Logging

    mutating func warning(_ message: String) {
        log.append(PolicyLogRecord(level: .warning, message: message))
    }

    mutating func info(_ message: String) {
        log.append(PolicyLogRecord(level: .info, message: message))
    }

    // smtpd_check.c, log_whatsup(); info_log_addr_form.c: addresses in external (quoted) form
    // unless info_log_address_format = internal, the null sender as is.
    mutating func logWhatsup(_ action: String, _ text: String) {
        let form = { (address: String) in
            self.settings.logExternalAddressForm && !address.isEmpty ? AddressForms.quoted(address) : address
        }
        let line = PolicyLogLine(
            queueID: session.queueID, action: action, stage: stage, client: clientNameAddress, text: text,
            sender: sender.map(form), recipient: recipient.map(form), protocolName: session.protocolName, helo: helo)
        info(line.formatted)
    }

    // MARK: - Replies

    // smtpd_check.c, smtpd_check_reject(): warn_if_reject turns the reply into a logged warning
    // (except for software, resource and data errors); a bad code or status code becomes
    // "450 4.7.1 Service unavailable"; the reply is cut at 510 bytes and made printable; a
    // pending defer_if_reject turns a 5xx into that deferral; soft_bounce turns 5 into 4; the
    // status class follows the reply code.
    /// Formats and logs a rejection; `.reject`, or `.dunno` under warn_if_reject.
    mutating func reject(_ errorClass: ErrorClass, _ code: Int, _ dsn: String, _ text: String) -> CheckStatus {
        let warnOnly = warnIfReject != 0 && errorClass != .software && errorClass != .resource && errorClass != .data
        var line = "\(code) \(dsn) \(text)"
        if code < 400 || code > 599 {
            warning("SMTP reply code configuration error: \(line)")
            line = "450 4.7.1 Service unavailable"
        }
        if EnhancedStatus.validLength(line.dropFirst(4)) == 0 {
            warning("DSN detail code configuration error: \(line)")
            line = "450 4.7.1 Service unavailable"
        }
        var bytes = Array(line.utf8.prefix(510))
        bytes = printableText(bytes, allowUTF8: settings.smtputf8Enable)
        if !warnOnly && session.deferIfReject.isActive && bytes.first == UInt8(ascii: "5"),
            let deferral = session.deferIfReject.deferral
        {
            warnIfReject = 0
            session.deferIfReject.isActive = false
            return reject(deferral.errorClass, deferral.code, deferral.dsn, deferral.reason)
        }
        if settings.softBounce && bytes.first == UInt8(ascii: "5") { bytes[0] = UInt8(ascii: "4") }
        if bytes.count > 4 { bytes[4] = bytes[0] }
        errorText = String(decoding: bytes, as: UTF8.self)
        logWhatsup(warnOnly ? "reject_warning" : "reject", errorText)
        return warnOnly ? .dunno : .reject
    }

    // smtpd_check.c, defer_if(): the first reason of a kind is kept.
    mutating func deferIf(permit: Bool, _ errorClass: ErrorClass, _ code: Int, _ dsn: String, _ text: String) -> CheckStatus {
        let deferral = Deferral(errorClass: errorClass, code: code, dsn: dsn, reason: text)
        if permit {
            if !session.deferIfPermit.isActive { session.deferIfPermit = .init(isActive: true, deferral: deferral) }
        } else {
            if !session.deferIfReject.isActive { session.deferIfReject = .init(isActive: true, deferral: deferral) }
        }
        return .dunno
    }

    // smtpd_check.c, DEFER_IF_PERMIT2(): defer_if_permit unless warn_if_reject is active or the
    // tempfail action is "defer", in which case the reply is sent now.
    mutating func deferIfPermit(deferIfPermitAction: Bool, _ errorClass: ErrorClass, _ code: Int, _ dsn: String, _ text: String)
        -> CheckStatus
    {
        if warnIfReject == 0 && deferIfPermitAction {
            return deferIf(permit: true, errorClass, code, dsn, text)
        }
        return reject(errorClass, code, dsn, text)
    }

    /// The pending defer_if_permit, as a reply (the end of smtpd_check_rcpt() and friends).
    mutating func replyForPendingPermitDeferral() -> CheckStatus {
        guard let deferral = session.deferIfPermit.deferral else { return .dunno }
        return reject(deferral.errorClass, deferral.code, deferral.dsn, deferral.reason)
    }

    // smtpd_check.c, reject_dict_retry() and reject_server_error().
    mutating func retry(_ replyName: String) -> Abort {
        Abort(status: reject(.data, 451, "4.3.0", "<\(replyName)>: Temporary lookup failure"))
    }

    mutating func serverError() -> Abort {
        Abort(status: reject(.software, 451, "4.3.5", "Server configuration error"))
    }

    // smtpd_check.c, smtpd_acl_permit(): a permit, logged when smtpd_log_access_permit_actions
    // names the action and no defer_if_permit overrules it.
    mutating func permit(_ action: String, _ replyClass: ReplyClass, _ replyName: String, from table: String? = nil) -> CheckStatus {
        if !session.deferIfPermit.isActive, let list = settings.logPermitActions, (try? list.matches(action)) == true {
            // The built-in permits pass an empty format argument, which still adds the space.
            let text = "action=\(action) for \(replyClass.rawValue)=\(replyName) " + (table.map { "from \($0)" } ?? "")
            logWhatsup("permit", text)
        }
        return .ok
    }

    // MARK: - Address resolution

    // smtpd_resolve.c: rewrite in the "local" context, resolve, lowercase the result.
    /// The resolution of an address; a table failure ends the stage with a temporary error.
    mutating func resolve(_ address: String) throws(Abort) -> AddressResolver.Resolution {
        do {
            var resolution = try settings.resolver.resolve(AddressForms.rewriteLocal(address, settings.rewrite))
            resolution.recipient = resolution.recipient.lowercased()
            return resolution
        } catch {
            throw retry(address)
        }
    }

    /// The first value for `address` in `tables` with `strategy`; table failures end the stage
    /// (smtpd_check.c, check_mail_addr_find()).
    mutating func findAddress(
        _ address: String, in tables: TableList?, strategy: AddressTableSearch.Strategy, replyName: String
    ) throws(Abort) -> String? {
        guard let tables else { return nil }
        do {
            return try settings.addressSearch.find(address, in: tables, strategy: strategy)?.value
        } catch let error as TableError where error.code == .emptyResult {
            warning(error.description)
            throw serverError()
        } catch {
            warning("\(error)")
            throw retry(replyName)
        }
    }
}
