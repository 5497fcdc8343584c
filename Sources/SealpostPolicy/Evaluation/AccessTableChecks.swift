import SealpostConfig

extension Evaluation {
    // smtpd_check.c, check_access(), check_domain_access(), check_addr_access() and
    // check_namadr_access(): the keys in order; the first key found decides through its value
    // (even DUNNO ends the search); a table that cannot be searched answers as if its value were
    // "451 4.3.5 Server configuration error".
    /// Looks `keys` up in an access table and acts on the value found.
    mutating func checkAccess(
        _ table: AccessTable, keys: [LookupKey], datum: String, replyName: String, replyClass: ReplyClass,
        defaultCheck: AccessCheck?
    ) async throws(Abort) -> CheckStatus {
        for key in keys {
            let value: String?
            do {
                value = try table.tables.lookup(key.text, partial: key.isPartial)?.value
            } catch {
                warning("\(error)")
                return try await checkTableResult(
                    table.name, "451 4.3.5 Server configuration error", datum: datum, replyName: replyName,
                    replyClass: replyClass, defaultCheck: defaultCheck)
            }
            if let value {
                return try await checkTableResult(
                    table.name, value, datum: datum, replyName: replyName, replyClass: replyClass, defaultCheck: defaultCheck)
            }
        }
        return .dunno
    }

    // smtpd_check.c, check_mail_access(): the address is resolved first and its resolved,
    // lowercased form is looked up: user+ext@domain, user@domain, domain and its parents,
    // user+ext@, user@ (access(5)). An OK for a recipient with routing operators in its local
    // part is ignored unless allow_untrusted_routing.
    mutating func checkMailAccess(_ table: AccessTable, _ address: String, replyClass: ReplyClass, defaultCheck: AccessCheck?)
        async throws(Abort) -> CheckStatus
    {
        let resolved = try resolve(address)
        guard resolved.recipient.contains("@") else {
            warning("check_mail_access: no @domain in address: \(resolved.recipient)")
            return .dunno
        }
        var strategy: AddressTableSearch.Strategy = [.full, .noExtension, .domain, .localPartAt]
        strategy.insert(settings.parentDomainMatchesSubdomains ? .parentMatchesSubdomains : .parentDotSubdomains)
        let keys: [LookupKey]
        do {
            keys = try settings.addressSearch.keys(for: resolved.recipient, strategy: strategy).map {
                LookupKey($0.text, isPartial: $0.isPartial)
            }
        } catch {
            throw retry(address)
        }
        let status = try await checkAccess(
            table, keys: keys, datum: resolved.recipient, replyName: address, replyClass: replyClass, defaultCheck: defaultCheck)
        let suspicious = !settings.allowUntrustedRouting && resolved.isRouted && replyClass == .recipient
        return status == .ok && suspicious ? .dunno : status
    }

    // smtpd_check.c, check_ccert_access(): the certificate fingerprint, then the public-key
    // fingerprint (or the configured search order), each as a full key; the reply names the
    // certificate's CommonName.
    mutating func checkClientCertificateAccess(_ table: AccessTable, order: [CertificateKey], defaultCheck: AccessCheck?)
        async throws(Abort) -> CheckStatus
    {
        guard let tls = session.tls, tls.peerCertificatePresent else {
            if !settings.tlsAskClientCertificate {
                warning("check_ccert_access is requested, but \"smtpd_tls_ask_ccert = no\"")
            }
            return .dunno
        }
        for key in order {
            let fingerprint = key == .certificateFingerprint ? tls.certificateFingerprint : tls.publicKeyFingerprint
            let status = try await checkAccess(
                table, keys: [LookupKey(fingerprint)], datum: fingerprint, replyName: tls.subjectCommonName,
                replyClass: .clientCertificate, defaultCheck: defaultCheck)
            if status != .dunno { return status }
        }
        return .dunno
    }

    // smtpd_check.c, check_table_result(): what an access table value means.
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    mutating func checkTableResult(
        _ table: String, _ value: String, datum: String, replyName: String, replyClass: ReplyClass, defaultCheck: AccessCheck?
    ) async throws(Abort) -> CheckStatus {
        let bytes = Array(value.utf8)
        let commandEnd = bytes.firstIndex(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) ?? bytes.count
        let command = String(decoding: bytes[..<commandEnd], as: UTF8.self)
        let text = String(decoding: bytes[commandEnd...].drop(while: { $0 == 32 || ($0 >= 9 && $0 <= 13) }), as: UTF8.self)
        let prefix = "<\(replyName)>: \(replyClass.rawValue) rejected:"
        func fixedStatus(_ status: String) -> String {
            let (fixed, notice) = EnhancedStatus.fix(status, for: replyClass)
            if let notice { info(notice) }
            return fixed
        }

        switch command.uppercased() {
        case "DUNNO":
            return .dunno
        case "REJECT":
            let (status, reason) = EnhancedStatus.split(Substring(text), defaultStatus: "5.7.1")
            return reject(.policy, settings.codes.accessMapReject, fixedStatus(status), "\(prefix) \(reason.isEmpty ? "Access denied" : reason)")
        case "DEFER":
            let (status, reason) = EnhancedStatus.split(Substring(text), defaultStatus: "4.7.1")
            return reject(.policy, settings.codes.accessMapDefer, fixedStatus(status), "\(prefix) \(reason.isEmpty ? "Access denied" : reason)")
        case "HANGUP":
            logWhatsup("hangup", text)
            hangUp = true
            throw Abort(status: .reject)
        case "INFO":
            logWhatsup("info", text)
            return .dunno
        case "WARN":
            logWhatsup("warn", text)
            return .dunno
        case "FILTER":
            guard canDelegate(table, "FILTER") else { return .dunno }
            if text.isEmpty {
                warning("access table \(table) entry \"\(datum)\" has FILTER entry without value")
            } else if !text.contains(":") {
                warning("access table \(table) entry \"\(datum)\" requires transport:destination")
            } else {
                logWhatsup("filter", "<\(replyName)>: \(replyClass.rawValue) triggers FILTER \(text)")
                session.actions.filter = text
            }
            return .dunno
        case "HOLD":
            guard canDelegate(table, "HOLD"), !session.actions.hold else { return .dunno }
            logWhatsup("hold", "<\(replyName)>: \(replyClass.rawValue) \(text.isEmpty ? "triggers HOLD action" : text)")
            session.actions.hold = true
            return .dunno
        case "DISCARD":
            guard canDelegate(table, "DISCARD") else { return .dunno }
            logWhatsup("discard", "<\(replyName)>: \(replyClass.rawValue) \(text.isEmpty ? "triggers DISCARD action" : text)")
            session.actions.discard = true
            return permit(command, replyClass, replyName, from: table)
        case "REDIRECT", "BCC":
            let action = command.uppercased()
            guard canDelegate(table, action) else { return .dunno }
            guard text.contains("@") else {
                warning("access table \(table) entry \"\(datum)\" requires user@domain target")
                return .dunno
            }
            logWhatsup(action.lowercased(), "<\(replyName)>: \(replyClass.rawValue) triggers \(action) \(text)")
            if action == "REDIRECT" { session.actions.redirect = text } else { session.actions.bcc.append(text) }
            return .dunno
        case "DEFER_IF_PERMIT":
            let (status, reason) = EnhancedStatus.split(Substring(text), defaultStatus: "4.7.1")
            return deferIfPermit(
                deferIfPermitAction: true, .policy, settings.codes.accessMapDefer, fixedStatus(status),
                "\(prefix) \(reason.isEmpty ? "Service unavailable" : reason)")
        case "DEFER_IF_REJECT":
            let (status, reason) = EnhancedStatus.split(Substring(text), defaultStatus: "4.7.1")
            return deferIf(
                permit: false, .policy, settings.codes.accessMapDefer, fixedStatus(status),
                "\(prefix) \(reason.isEmpty ? "Service unavailable" : reason)")
        case "PREPEND":
            guard notInClientOrHelo(table, "PREPEND") else { return .dunno }
            if stage == "END-OF-MESSAGE" {
                warning("access table \(table): action PREPEND must be used before smtpd_end_of_data_restrictions")
            } else if text.isEmpty || !Self.isHeader(text) {
                warning("access table \(table) entry \"\(datum)\" requires header: text")
            } else {
                session.actions.prependedHeaders.append(text)
            }
            return .dunno
        default:
            break
        }

        // "All-numeric result probably means OK".
        if bytes.allSatisfy(isASCIIDigit) {
            return permit(command, replyClass, replyName, from: table)
        }
        // "4xx or 5xx means NO as well", with an optional enhanced status code.
        if command.utf8.count == 3, !text.isEmpty, bytes[0] == UInt8(ascii: "4") || bytes[0] == UInt8(ascii: "5"),
            isASCIIDigit(bytes[1]), isASCIIDigit(bytes[2]), let code = Int(command)
        {
            let (status, reason) = EnhancedStatus.split(Substring(text), defaultStatus: "\(command.prefix(1)).7.1")
            return reject(.policy, code, fixedStatus(status), "\(prefix) \(reason.isEmpty ? "Access denied" : reason)")
        }
        if command.uppercased() == "OK" || command.uppercased() == "RELAY" {
            return permit(command, replyClass, replyName, from: table)
        }
        if value.contains(":") {
            warning("access table \(table) has entry with lookup table: \(value)")
            warning("do not specify lookup tables inside SMTPD access maps")
            warning("define a restriction class and specify its name instead.")
            throw serverError()
        }
        if recursion > 100 {
            warning("access table \(table) entry \(value) causes unreasonable recursion")
            throw serverError()
        }
        let items = RestrictionParser.parseResult(PostfixList.split(value), classNames: Set(settings.classes.keys))
        if items.isEmpty {
            warning("access table \(table) entry \(value) has empty value")
            return .ok
        }
        return try await generic(items, replyName: replyName, replyClass: replyClass, defaultCheck: defaultCheck)
    }

    // smtpd_check.c, can_delegate_action() and not_in_client_helo(): the actions that cleanup
    // carries out need a mail transaction.
    private mutating func canDelegate(_ table: String, _ action: String) -> Bool {
        if stage == "ETRN" {
            warning("access table \(table): action \(action) is unavailable in smtpd_etrn_restrictions")
            return false
        }
        return notInClientOrHelo(table, action)
    }

    private mutating func notInClientOrHelo(_ table: String, _ action: String) -> Bool {
        guard sender == nil else { return true }
        warning(
            "access table \(table): with smtpd_delay_reject=no, action \(action) is always skipped in Client host or Helo command restrictions")
        return false
    }

    // is_header.c: a header name (printable ASCII without space or ':') then optional white
    // space and ':'.
    static func isHeader(_ text: String) -> Bool {
        var sawName = false
        var sawSpace = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ":") { return sawName }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                guard sawName else { return false }
                sawSpace = true
                continue
            }
            guard !sawSpace, byte > 32, byte < 127 else { return false }
            sawName = true
        }
        return false
    }
}
