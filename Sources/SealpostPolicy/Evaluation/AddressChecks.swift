import SealpostConfig

extension Evaluation {
    // MARK: - Relay permission

    // smtpd_check.c, permit_auth_destination(): after resolving, an address whose local part
    // still holds routing operators is never authorized (unless allow_untrusted_routing); the
    // local, virtual alias and virtual mailbox classes and relay_domains are.
    mutating func permitAuthDestination(_ recipient: String) throws(Abort) -> CheckStatus {
        let resolved = try resolve(recipient)
        guard resolved.recipient.contains("@") else { return .ok }
        if !settings.allowUntrustedRouting && resolved.isRouted { return .dunno }
        if resolved.addressClass.isFinal || resolved.addressClass == .relay { return .ok }
        return .dunno
    }

    // smtpd_check.c, reject_unauth_destination(): defer_unauth_destination passes
    // relay_domains_reject_code - 100 and 4.7.1.
    mutating func rejectUnauthDestination(_ recipient: String, code: Int, dsn: String) throws(Abort) -> CheckStatus {
        if try permitAuthDestination(recipient) == .ok { return .dunno }
        return reject(.policy, code, dsn, "<\(recipient)>: Relay access denied")
    }

    // smtpd_check.c, check_relay_domains(): the obsolete form — a client in relay_domains, or an
    // authorized destination, else "Relay access denied".
    mutating func checkRelayDomains(_ recipient: String) throws(Abort) -> CheckStatus {
        do {
            if try settings.relayDomains.matches(session.client.name) { return .ok }
        } catch {
            throw retry(recipient)
        }
        if try permitAuthDestination(recipient) == .ok { return .ok }
        return reject(
            .policy, settings.codes.relayDomainsReject, "5.7.1", "<\(recipient)>: \(ReplyClass.recipient.rawValue) rejected: Relay access denied")
    }

    // smtpd_check.c, permit_tls_clientcerts(): any verified certificate for
    // permit_tls_all_clientcerts; otherwise the certificate or public-key fingerprint must be in
    // relay_clientcerts (the chain need not verify).
    mutating func permitTLSClientCertificates(all: Bool, replyName: String) throws(Abort) -> CheckStatus {
        guard let tls = session.tls else { return .dunno }
        if tls.peerCertificateVerified && all { return .ok }
        if tls.peerCertificatePresent {
            for fingerprint in [tls.certificateFingerprint, tls.publicKeyFingerprint] {
                do {
                    if try settings.relayClientCertificates?.lookup(fingerprint) != nil { return .ok }
                } catch {
                    warning(
                        "relay_clientcerts: lookup error for fingerprint '\(tls.certificateFingerprint)', pkey fingerprint \(tls.publicKeyFingerprint)")
                    throw retry(replyName)
                }
            }
        } else if !settings.tlsAskClientCertificate {
            warning("\(all ? "permit_tls_all_clientcerts" : "permit_tls_clientcerts") is requested, but \"smtpd_tls_ask_ccert = no\"")
        }
        return .dunno
    }

    // MARK: - Host names and domains

    // smtpd_check.c, reject_invalid_hostaddr(): "[address]" must hold a valid address literal.
    mutating func rejectInvalidHostAddress(_ address: String, _ replyName: String, _ replyClass: ReplyClass) -> CheckStatus {
        var test = address
        if address.hasPrefix("["), address.hasSuffix("]"), address.utf8.count > 2 { test = String(address.dropFirst().dropLast()) }
        guard HostnameSyntax.mailhostAddress(test) == nil else { return .dunno }
        return reject(.policy, settings.codes.invalidHostname, "5.5.2", "<\(replyName)>: \(replyClass.rawValue) rejected: invalid ip address")
    }

    // smtpd_check.c, reject_invalid_hostname(): a host name, or (for compatibility) a bare address.
    mutating func rejectInvalidHostname(_ name: String, _ replyName: String, _ replyClass: ReplyClass) -> CheckStatus {
        let test = HostnameSyntax.truncatingTrailingDot(name)
        guard !HostnameSyntax.isValidHostname(test), !HostnameSyntax.isValidHostAddress(test) else { return .dunno }
        return reject(.policy, settings.codes.invalidHostname, "5.5.2", "<\(replyName)>: \(replyClass.rawValue) rejected: Invalid name")
    }

    // smtpd_check.c, reject_non_fqdn_hostname(): a valid name with a dot (UTF-8 only in SMTPUTF8
    // transactions).
    mutating func rejectNonFQDNHostname(_ name: String, _ replyName: String, _ replyClass: ReplyClass) -> CheckStatus {
        let test = HostnameSyntax.truncatingTrailingDot(name)
        guard !HostnameSyntax.isValidUTF8Hostname(test, allowUTF8: session.smtputf8) || !test.contains(".") else { return .dunno }
        return reject(
            .policy, settings.codes.nonFQDN, "5.5.2", "<\(replyName)>: \(replyClass.rawValue) rejected: need fully-qualified hostname")
    }

    // smtpd_check.c, reject_non_fqdn_address(): the domain (empty without '@') must be a valid
    // name with a dot; address literals pass.
    mutating func rejectNonFQDNAddress(_ address: String, replyClass: ReplyClass) -> CheckStatus {
        let domain = AddressForms.domain(of: address).map(String.init) ?? ""
        if domain.hasPrefix("[") && domain.hasSuffix("]") { return .dunno }
        let test = HostnameSyntax.truncatingTrailingDot(domain)
        guard test.isEmpty || !HostnameSyntax.isValidUTF8Hostname(test, allowUTF8: session.smtputf8) || !test.contains(".") else {
            return .dunno
        }
        return reject(
            .policy, settings.codes.nonFQDN, "4.5.2", "<\(address)>: \(replyClass.rawValue) rejected: need fully-qualified address")
    }

    // smtpd_check.c, reject_unknown_hostname(): the HELO name needs an A, AAAA or MX record.
    mutating func rejectUnknownHostname(_ name: String, _ replyName: String, _ replyClass: ReplyClass) async -> CheckStatus {
        let status = await dns.lookup(name, types: [.a, .aaaa, .mx], stopAt: [.found])
        let prefix = "<\(replyName)>: \(replyClass.rawValue) rejected:"
        switch status {
        case .found, .nullMX:
            return .dunno
        case .temporaryFailure:
            return deferIfPermit(
                deferIfPermitAction: settings.unknownHeloTempfailDefersIfPermit, .policy, 450, "4.7.1", "\(prefix) Host not found")
        case .malformed:
            return reject(.policy, settings.codes.unknownHostname, "4.7.1", "\(prefix) Malformed DNS server reply")
        case .notFound, .permanentFailure:
            return reject(.policy, settings.codes.unknownHostname, "4.7.1", "\(prefix) Host not found")
        }
    }

    // smtpd_check.c, reject_unknown_address(): after resolving, local and virtual destinations
    // and address literals pass; other domains need an MX, A or AAAA record.
    mutating func rejectUnknownAddress(_ address: String, replyClass: ReplyClass) async throws(Abort) -> CheckStatus {
        let resolved = try resolve(address)
        guard let domain = AddressForms.domain(of: resolved.recipient).map(String.init) else { return .dunno }
        if resolved.addressClass.isFinal { return .dunno }
        if domain.hasPrefix("[") && domain.hasSuffix("]") { return .dunno }
        return await rejectUnknownMailhost(domain, replyName: address, replyClass: replyClass)
    }

    // smtpd_check.c, reject_unknown_mailhost(): MX, then A and AAAA; a null MX is refused with
    // 550 5.7.27 (sender) or 556 5.1.10 (recipient).
    mutating func rejectUnknownMailhost(_ domain: String, replyName: String, replyClass: ReplyClass) async -> CheckStatus {
        let name = domain.utf8.allSatisfy { $0 < 0x80 } ? domain : (Punycode.asciiDomain(domain) ?? domain)
        let status = await dns.lookup(name, types: [.mx, .a, .aaaa], stopAt: [.found, .malformed, .nullMX])
        let isSender = replyClass == .sender
        let prefix = "<\(replyName)>: \(replyClass.rawValue) rejected:"
        switch status {
        case .found:
            return .dunno
        case .nullMX:
            return reject(
                .policy, isSender ? 550 : 556, isSender ? "4.7.27" : "4.1.10", "\(prefix) Domain \(name) does not accept mail (nullMX)")
        case .temporaryFailure:
            return deferIfPermit(
                deferIfPermitAction: settings.unknownAddressTempfailDefersIfPermit, .policy, 450, isSender ? "4.1.8" : "4.1.2",
                "\(prefix) Domain not found")
        case .malformed:
            return reject(.policy, settings.codes.unknownAddress, isSender ? "4.1.8" : "4.1.2", "\(prefix) Malformed DNS server reply")
        case .notFound, .permanentFailure:
            return reject(.policy, settings.codes.unknownAddress, isSender ? "4.1.8" : "4.1.2", "\(prefix) Domain not found")
        }
    }

    // MARK: - SASL sender ownership

    // smtpd_check.c, reject_auth_sender_login_mismatch(): a logged-in client must be an owner
    // of the sender address in smtpd_sender_login_maps.
    mutating func rejectAuthenticatedSenderLoginMismatch(_ sender: String, allowUnknownSender: Bool) throws(Abort) -> CheckStatus {
        guard let username = session.sasl?.username else { return .dunno }
        let resolved = try resolve(sender)
        var found = false
        if let owners = try findAddress(resolved.recipient, in: settings.senderLoginMaps, strategy: .default, replyName: sender) {
            found = PostfixList.split(owners).contains { $0.lowercased() == username.lowercased() }
        } else if allowUnknownSender {
            return .dunno
        }
        guard !found else { return .dunno }
        return reject(.policy, 553, "5.7.1", "<\(sender)>: Sender address rejected: not owned by user \(username)")
    }

    // smtpd_check.c, reject_unauth_sender_login_mismatch(): a sender address with an owner
    // needs a login.
    mutating func rejectUnauthenticatedSenderLoginMismatch(_ sender: String) throws(Abort) -> CheckStatus {
        guard session.sasl == nil else { return .dunno }
        let resolved = try resolve(sender)
        guard try findAddress(resolved.recipient, in: settings.senderLoginMaps, strategy: .default, replyName: sender) != nil else {
            return .dunno
        }
        return reject(.policy, 553, "5.7.1", "<\(sender)>: Sender address rejected: not logged in")
    }

    // MARK: - Recipient tables

    // smtpd_check.c, check_recipient_rcpt_maps() and check_sender_rcpt_maps(): each address is
    // validated once per command (the implicit check after the restrictions is skipped when a
    // reject_unlisted_* in the lists already did it), unless receive_override_options has
    // no_unknown_recipient_checks.
    mutating func checkRecipientTables(_ recipient: String) throws(Abort) -> CheckStatus {
        if settings.skipUnknownRecipientChecks || session.recipientTablesChecked { return .dunno }
        if warnIfReject == 0 { session.recipientTablesChecked = true }
        return try checkAddressTables(recipient, replyClass: .recipient)
    }

    mutating func checkSenderTables(_ sender: String) throws(Abort) -> CheckStatus {
        if settings.skipUnknownRecipientChecks || session.senderTablesChecked { return .dunno }
        if warnIfReject == 0 { session.senderTablesChecked = true }
        return try checkAddressTables(sender, replyClass: .sender)
    }

    // smtpd_check.c, check_rcpt_maps(): an address in a canonical or virtual alias table is
    // known; an address that resolves to the error transport (an unknown virtual alias) or the
    // retry transport is refused with its text; otherwise the table of the address class decides:
    // local_recipient_maps (local; except postmaster, MAILER-DAEMON and the double-bounce
    // sender), virtual_mailbox_maps (virtual), relay_recipient_maps (relay). An empty parameter
    // accepts every address of its class.
    private mutating func checkAddressTables(_ address: String, replyClass: ReplyClass) throws(Abort) -> CheckStatus {
        let resolved = try resolve(address)
        let isSender = replyClass == .sender
        let knownTables = [settings.recipientCanonicalMaps, isSender ? settings.senderCanonicalMaps : nil, settings.canonicalMaps, settings.virtualAliasMaps]
        for tables in knownTables where try isKnown(resolved.recipient, in: tables, replyName: address) {
            return .dunno
        }
        let prefix = "<\(address)>: \(replyClass.rawValue) rejected:"
        if resolved.transport == "error" {
            let (status, text) = EnhancedStatus.split(Substring(resolved.nexthop), defaultStatus: isSender ? "5.1.0" : "5.1.1")
            let code = resolved.addressClass == .alias ? settings.codes.unknownVirtualAlias : 550
            return reject(.bounce, code, fixedStatus(status, replyClass), "\(prefix) \(text)")
        }
        if resolved.transport == "retry" {
            let (status, text) = EnhancedStatus.split(Substring(resolved.nexthop), defaultStatus: isSender ? "4.1.0" : "4.1.1")
            return reject(.bounce, 450, fixedStatus(status, replyClass), "\(prefix) \(text)")
        }
        let dsn = isSender ? "5.1.0" : "5.1.1"
        let tableName = settings.showUnknownTableName
        switch resolved.addressClass {
        case .local:
            guard let tables = settings.localRecipientMaps,
                !AddressForms.hasLocalPart(resolved.recipient, settings.doubleBounceSender),
                !AddressForms.hasLocalPart(resolved.recipient, "postmaster"),
                !AddressForms.hasLocalPart(resolved.recipient, "MAILER-DAEMON"),
                !(try isKnown(resolved.recipient, in: tables, replyName: address))
            else { return .dunno }
            return reject(
                .bounce, settings.codes.unknownLocalRecipient, dsn, "\(prefix) User unknown\(tableName ? " in local recipient table" : "")")
        case .virtual:
            guard let tables = settings.virtualMailboxMaps, !(try isKnown(resolved.recipient, in: tables, replyName: address)) else { return .dunno }
            return reject(
                .bounce, settings.codes.unknownVirtualMailbox, dsn, "\(prefix) User unknown\(tableName ? " in virtual mailbox table" : "")")
        case .relay:
            guard let tables = settings.relayRecipientMaps, !(try isKnown(resolved.recipient, in: tables, replyName: address)) else { return .dunno }
            return reject(
                .bounce, settings.codes.unknownRelayRecipient, dsn, "\(prefix) User unknown\(tableName ? " in relay recipient table" : "")")
        case .alias, .default:
            return .dunno
        }
    }

    private mutating func isKnown(_ address: String, in tables: TableList?, replyName: String) throws(Abort) -> Bool {
        try findAddress(address, in: tables, strategy: .default, replyName: replyName) != nil
    }

    /// `status` adjusted to what is rejected (smtpd_dsn_fix()), logging Postfix's notice.
    mutating func fixedStatus(_ status: String, _ replyClass: ReplyClass) -> String {
        let (result, notice) = EnhancedStatus.fix(status, for: replyClass)
        if let notice { info(notice) }
        return result
    }
}
