import SealpostConfig

extension Evaluation {
    // smtpd_check.c, generic_checks(): the restrictions in order; warn_if_reject covers the next
    // restriction only; the first one that decides (OK or REJECT) ends the list; the list also
    // ends once both a defer_if_permit and a defer_if_reject are pending, or after DISCARD.
    /// Evaluates a restriction list.
    mutating func generic(
        _ items: [RestrictionItem], replyName: String, replyClass: ReplyClass, defaultCheck: AccessCheck?
    ) async throws(Abort) -> CheckStatus {
        let savedRecursion = recursion
        recursion += 1
        var status = CheckStatus.dunno
        var index = 0
        while index < items.count {
            if session.actions.discard { break }
            let item = items[index]
            if case .warnIfReject = item.restriction {
                if warnIfReject == 0 { warnIfReject = recursion }
                index += 1
                continue
            }
            status = try await evaluate(item, following: items[(index + 1)...], replyName: replyName, replyClass: replyClass, defaultCheck: defaultCheck)
            if warnIfReject >= recursion { warnIfReject = 0 }
            if status != .dunno { break }
            if session.deferIfPermit.isActive && session.deferIfReject.isActive { break }
            index += 1
        }
        recursion = savedRecursion
        if warnIfReject >= recursion { warnIfReject = 0 }
        return status
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private mutating func evaluate(
        _ item: RestrictionItem, following: ArraySlice<RestrictionItem>, replyName: String, replyClass: ReplyClass,
        defaultCheck: AccessCheck?
    ) async throws(Abort) -> CheckStatus {
        let client = session.client
        let prefix = "<\(replyName)>: \(replyClass.rawValue) rejected:"
        switch item.restriction {
        case .warnIfReject:
            return .dunno

        case .bareTable(let table):
            guard let defaultCheck else {
                warning(
                    "specify one of (check_client_access, check_reverse_client_hostname_access, check_helo_access, "
                        + "check_sender_access, check_recipient_access, check_etrn_access) before \(replyClass.rawValue) "
                        + "restriction \"\(table.name)\"")
                throw serverError()
            }
            return try await evaluate(
                RestrictionItem(name: defaultCheck.rawValue, restriction: .access(defaultCheck, table)), following: following,
                replyName: replyName, replyClass: replyClass, defaultCheck: defaultCheck)

        case .permit:
            let status = permit(item.name, replyClass, replyName)
            if let next = following.first { warning("restriction `\(next.name)' after `\(item.name)' is ignored") }
            return status
        case .deferAll:
            let status = reject(.policy, settings.codes.deferAll, "4.3.2", "\(prefix) Try again later")
            if let next = following.first, warnIfReject == 0 { warning("restriction `\(next.name)' after `\(item.name)' is ignored") }
            return status
        case .reject:
            let status = reject(.policy, settings.codes.reject, "5.7.1", "\(prefix) Access denied")
            if let next = following.first, warnIfReject == 0 { warning("restriction `\(next.name)' after `\(item.name)' is ignored") }
            return status
        case .rejectUnauthPipelining:
            guard session.improperPipelining else { return .dunno }
            return reject(.protocolError, 503, "5.5.0", "\(prefix) Improper use of SMTP command pipelining")
        case .deferIfPermit:
            return deferIfPermit(deferIfPermitAction: true, .policy, 450, "4.7.0", "\(prefix) defer_if_permit requested")
        case .deferIfReject:
            return deferIf(permit: false, .policy, 450, "4.7.0", "\(prefix) defer_if_reject requested")
        case .rejectPlaintextSession:
            guard session.tls == nil else { return .dunno }
            return reject(.policy, settings.codes.plaintext, "4.7.1", "Session encryption is required")

        // Client.
        case .rejectUnknownClientHostname:
            // RFC 7372: 4.7.25.
            guard client.nameStatus != .ok else { return .dunno }
            let code = client.nameStatus.rawValue >= ClientNameStatus.permanentFailure.rawValue ? settings.codes.unknownClient : 450
            return reject(.policy, code, "4.7.25", "Client host rejected: cannot find your hostname, [\(client.address)]")
        case .rejectUnknownReverseClientHostname:
            guard client.reverseNameStatus != .ok else { return .dunno }
            let code = client.reverseNameStatus == .permanentFailure ? settings.codes.unknownClient : 450
            return reject(.policy, code, "4.7.1", "Client host rejected: cannot find your reverse hostname, [\(client.address)]")
        case .permitInetInterfaces:
            guard let bytes = IPNetwork.addressBytes(client.address), settings.interfaceAddresses.contains(bytes) else { return .dunno }
            return permit(item.name, .client, clientNameAddress)
        case .permitMynetworks:
            let matches: Bool
            do {
                matches = try settings.mynetworks.matches(name: client.name, address: client.address)
            } catch {
                warning("mynetworks: table lookup problem: \(error)")
                throw retry(replyName)
            }
            return matches ? permit(item.name, .client, clientNameAddress) : .dunno
        case .access(.client, let table):
            return try await checkAccess(
                table, keys: settings.keys.accessKeys(forClientName: client.name, address: client.address),
                datum: client.name, replyName: clientNameAddress, replyClass: .client, defaultCheck: defaultCheck)
        case .access(.reverseClient, let table):
            let status = try await checkAccess(
                table, keys: settings.keys.accessKeys(forClientName: client.reverseName, address: client.address),
                datum: client.reverseName, replyName: client.reverseName, replyClass: .reverseClient, defaultCheck: defaultCheck)
            try forbidAllowlist(item.name, status, client.reverseName)
            return status
        case .clientCertificateAccess(let table, let order):
            return try await checkClientCertificateAccess(table, order: order, defaultCheck: defaultCheck)
        case .access(.sasl, let table):
            guard settings.saslEnabled else {
                warning("restriction `\(item.name)' ignored: no SASL support")
                return .dunno
            }
            guard let username = session.sasl?.username, !username.isEmpty else { return .dunno }
            let shown = String(decoding: printableText(Array(username.utf8), replacement: UInt8(ascii: "_"), allowUTF8: settings.smtputf8Enable), as: UTF8.self)
            return try await checkAccess(
                table, keys: [LookupKey(username)], datum: username, replyName: shown, replyClass: .saslLogin, defaultCheck: defaultCheck)

        // HELO.
        case .access(.helo, let table):
            guard let helo else { return .dunno }
            return try await checkAccess(
                table, keys: settings.keys.accessKeys(forHostname: helo), datum: helo, replyName: helo, replyClass: .helo,
                defaultCheck: defaultCheck)
        case .rejectInvalidHeloHostname:
            guard let helo else { return .dunno }
            return helo.hasPrefix("[") ? rejectInvalidHostAddress(helo, helo, .helo) : rejectInvalidHostname(helo, helo, .helo)
        case .rejectUnknownHeloHostname:
            guard let helo else { return .dunno }
            return helo.hasPrefix("[") ? rejectInvalidHostAddress(helo, helo, .helo) : await rejectUnknownHostname(helo, helo, .helo)
        case .rejectNonFQDNHeloHostname:
            guard let helo else { return .dunno }
            return helo.hasPrefix("[") ? rejectInvalidHostAddress(helo, helo, .helo) : rejectNonFQDNHostname(helo, helo, .helo)
        case .permitNakedIPAddress:
            warning("restriction permit_naked_ip_address is deprecated. Use permit_mynetworks or permit_sasl_authenticated instead")
            guard let helo, helo.utf8.allSatisfy({ isASCIIDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }) else {
                return .dunno
            }
            let status = rejectInvalidHostAddress(helo, helo, .helo)
            return status == .dunno ? permit(item.name, .helo, helo) : status

        // Sender.
        case .access(.sender, let table):
            guard let sender else { return .dunno }
            if sender.isEmpty {
                return try await checkAccess(
                    table, keys: [LookupKey(settings.nullAccessKey)], datum: settings.nullAccessKey, replyName: sender,
                    replyClass: .sender, defaultCheck: defaultCheck)
            }
            return try await checkMailAccess(table, sender, replyClass: .sender, defaultCheck: defaultCheck)
        case .rejectUnknownSenderDomain:
            guard let sender, !sender.isEmpty else { return .dunno }
            return try await rejectUnknownAddress(sender, replyClass: .sender)
        case .rejectNonFQDNSender:
            guard let sender, !sender.isEmpty else { return .dunno }
            return rejectNonFQDNAddress(sender, replyClass: .sender)
        case .senderLogin(let check):
            guard settings.saslEnabled else {
                warning("restriction `\(item.name)' ignored: no SASL support")
                return .dunno
            }
            guard let sender, !sender.isEmpty else { return .dunno }
            switch check {
            case .authenticated:
                return try rejectAuthenticatedSenderLoginMismatch(sender, allowUnknownSender: false)
            case .known:
                return session.sasl != nil
                    ? try rejectAuthenticatedSenderLoginMismatch(sender, allowUnknownSender: true)
                    : try rejectUnauthenticatedSenderLoginMismatch(sender)
            case .unauthenticated:
                return try rejectUnauthenticatedSenderLoginMismatch(sender)
            }
        case .rejectUnlistedSender:
            guard let sender, !sender.isEmpty else { return .dunno }
            return try checkSenderTables(sender)

        // Recipient.
        case .access(.recipient, let table):
            guard let recipient else { return .dunno }
            return try await checkMailAccess(table, recipient, replyClass: .recipient, defaultCheck: defaultCheck)
        case .permitAuthDestination:
            guard let recipient else { return .dunno }
            return try permitAuthDestination(recipient) == .ok ? permit(item.name, .recipient, recipient) : .dunno
        case .rejectUnauthDestination:
            guard let recipient else { return .dunno }
            return try rejectUnauthDestination(recipient, code: settings.codes.relayDomainsReject, dsn: "5.7.1")
        case .deferUnauthDestination:
            guard let recipient else { return .dunno }
            return try rejectUnauthDestination(recipient, code: settings.codes.relayDomainsReject - 100, dsn: "4.7.1")
        case .checkRelayDomains:
            var status = CheckStatus.dunno
            if let recipient { status = try checkRelayDomains(recipient) }
            if status == .ok, let recipient { status = permit(item.name, .recipient, recipient) }
            if let next = following.first, warnIfReject == 0 { warning("restriction `\(next.name)' after `\(item.name)' is ignored") }
            return status
        case .permitSASLAuthenticated:
            guard session.sasl != nil else { return .dunno }
            return permit(item.name, .client, clientNameAddress)
        case .permitTLSAllClientCertificates:
            return try permitTLSClientCertificates(all: true, replyName: replyName) == .ok ? permit(item.name, .client, clientNameAddress) : .dunno
        case .permitTLSClientCertificates:
            return try permitTLSClientCertificates(all: false, replyName: replyName) == .ok ? permit(item.name, .client, clientNameAddress) : .dunno
        case .rejectUnknownRecipientDomain:
            guard let recipient else { return .dunno }
            return try await rejectUnknownAddress(recipient, replyClass: .recipient)
        case .rejectNonFQDNRecipient:
            guard let recipient else { return .dunno }
            return rejectNonFQDNAddress(recipient, replyClass: .recipient)
        case .rejectUnlistedRecipient:
            guard let recipient, !recipient.isEmpty else { return .dunno }
            return try checkRecipientTables(recipient)
        case .rejectMultiRecipientBounce:
            guard sender == "", session.recipientCount > (stage == "RCPT" ? 0 : 1) else { return .dunno }
            return reject(.policy, settings.codes.multiRecipientBounce, "5.5.3", "\(prefix) Multi-recipient bounce")

        // ETRN.
        case .access(.etrn, let table):
            guard let etrnDomain else { return .dunno }
            return try await checkAccess(
                table, keys: settings.keys.accessKeys(forHostname: etrnDomain), datum: etrnDomain, replyName: etrnDomain,
                replyClass: .etrn, defaultCheck: defaultCheck)

        // Lists.
        case .restrictionClass(let name):
            guard let list = settings.classes[name] else {
                warning("unknown smtpd restriction: \"\(name)\"")
                throw serverError()
            }
            return try await generic(list, replyName: replyName, replyClass: replyClass, defaultCheck: defaultCheck)
        case .invalid(let message):
            warning(message)
            throw serverError()
        }
    }

    // smtpd_check.c, forbid_allowlist(): the reverse-name checks may not say OK.
    mutating func forbidAllowlist(_ name: String, _ status: CheckStatus, _ target: String) throws(Abort) {
        guard !session.actions.discard, status == .ok else { return }
        warning("restriction \(name) returns OK for \(target)")
        warning("this is not allowed for security reasons")
        warning("use DUNNO instead of OK if you want to make an exception")
        throw serverError()
    }
}
