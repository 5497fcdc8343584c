extension Evaluation {
    // smtpd_check.c, SMTPD_CHECK_RESET().
    private mutating func resetForList() {
        recursion = 0
        warnIfReject = 0
        session.deferIfReject.isActive = false
    }

    private mutating func run(
        _ items: [RestrictionItem], replyName: String, replyClass: ReplyClass, defaultCheck: AccessCheck?
    ) async -> CheckStatus {
        guard !items.isEmpty else { return .dunno }
        do {
            return try await generic(items, replyName: replyName, replyClass: replyClass, defaultCheck: defaultCheck)
        } catch {
            return error.status
        }
    }

    // smtpd_check.c, smtpd_check_client().
    mutating func checkClient() async -> CheckStatus {
        session.deferIfPermit.isActive = false
        resetForList()
        let status = await run(settings.clientRestrictions, replyName: clientNameAddress, replyClass: .client, defaultCheck: .client)
        session.deferIfPermitClient = session.deferIfPermit.isActive
        return status
    }

    // smtpd_check.c, smtpd_check_helo(): nothing to check without a HELO name.
    mutating func checkHelo(_ name: String?) async -> CheckStatus {
        guard let name else { return .dunno }
        let saved = helo
        helo = name
        defer { helo = saved }
        session.deferIfPermit.isActive = session.deferIfPermitClient
        resetForList()
        let status = await run(settings.heloRestrictions, replyName: name, replyClass: .helo, defaultCheck: .helo)
        session.deferIfPermitHelo = session.deferIfPermit.isActive
        return status
    }

    // smtpd_check.c, smtpd_check_mail(): then the implicit reject_unlisted_sender.
    mutating func checkMail(_ address: String?) async -> CheckStatus {
        guard let address else { return .dunno }
        let saved = sender
        sender = address
        defer { sender = saved }
        session.deferIfPermit.isActive = session.deferIfPermitClient || session.deferIfPermitHelo
        session.senderTablesChecked = false
        resetForList()
        var status = await run(settings.senderRestrictions, replyName: address, replyClass: .sender, defaultCheck: .sender)
        session.deferIfPermitSender = session.deferIfPermit.isActive
        if settings.rejectUnlistedSender && status != .reject && !session.senderTablesChecked && !session.actions.discard
            && !address.isEmpty
        {
            do {
                status = try checkSenderTables(address)
            } catch {
                status = error.status
            }
        }
        return status
    }

    // smtpd_check.c, smtpd_check_rcpt(): a bare "postmaster" is always accepted; with
    // smtpd_delay_reject the client, HELO and sender restrictions come first; then the relay and
    // recipient restrictions (relay first with smtpd_relay_before_recipient_restrictions); a
    // pending defer_if_permit turns acceptance into that deferral; then the implicit
    // reject_unlisted_recipient.
    mutating func checkRecipient(_ address: String) async -> CheckStatus {
        if address.lowercased() == "postmaster" { return .dunno }
        let saved = recipient
        recipient = address
        defer { recipient = saved }
        session.recipientTablesChecked = false
        if settings.delayReject {
            if await checkClient() == .reject { return .reject }
            if await checkHelo(helo) == .reject { return .reject }
            if await checkMail(sender) == .reject { return .reject }
        }
        session.deferIfPermit.isActive = session.deferIfPermitSender
        resetForList()
        let lists =
            settings.relayBeforeRecipientRestrictions
            ? [settings.relayRestrictions, settings.recipientRestrictions]
            : [settings.recipientRestrictions, settings.relayRestrictions]
        var status = CheckStatus.dunno
        for list in lists {
            status = await run(list, replyName: address, replyClass: .recipient, defaultCheck: .recipient)
            if status == .reject { break }
        }
        if status != .reject && session.deferIfPermit.isActive {
            status = replyForPendingPermitDeferral()
        }
        if settings.rejectUnlistedRecipient && status != .reject && !session.recipientTablesChecked && !session.actions.discard {
            do {
                status = try checkRecipientTables(address)
            } catch {
                status = error.status
            }
        }
        return status
    }

    // smtpd_check.c, smtpd_check_etrn().
    mutating func checkETRN(_ domain: String) async -> CheckStatus {
        etrnDomain = domain
        if settings.delayReject {
            if await checkClient() == .reject { return .reject }
            if await checkHelo(helo) == .reject { return .reject }
        }
        session.deferIfPermit.isActive = session.deferIfPermitClient || session.deferIfPermitHelo
        resetForList()
        var status = await run(settings.etrnRestrictions, replyName: domain, replyClass: .etrn, defaultCheck: .etrn)
        if status != .reject && session.deferIfPermit.isActive {
            status = replyForPendingPermitDeferral()
        }
        return status
    }

    // smtpd_check.c, smtpd_check_data() and smtpd_check_eod(): the recipient is named only when
    // there is exactly one; a table alone in these lists has no default check.
    mutating func checkData(endOfData: Bool) async -> CheckStatus {
        recipient = session.recipientCount > 1 ? nil : session.firstRecipient
        session.deferIfPermit.isActive = false
        resetForList()
        var status = await run(
            endOfData ? settings.endOfDataRestrictions : settings.dataRestrictions, replyName: endOfData ? "END-OF-MESSAGE" : "DATA",
            replyClass: endOfData ? .endOfData : .data, defaultCheck: nil)
        if status != .reject && session.deferIfPermit.isActive {
            status = replyForPendingPermitDeferral()
        }
        return status
    }
}
