#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SealpostConfig
import SealpostRouting

/// smtpd's access policy: the `smtpd_*_restrictions` of one service, evaluated as Postfix's
/// smtpd_check.c evaluates them, with Postfix's reply texts and log lines.
///
/// Build it once per service at start-up (every list, class and table is parsed and opened then;
/// errors name the parameter), keep one ``PolicySession`` per SMTP session, and call the check of
/// each protocol stage. A check returns a ``PolicyVerdict``: nil ``PolicyVerdict/reply`` means go
/// on; otherwise send the reply through ``replyLines(_:session:)`` (which adds
/// `smtpd_reject_footer` and applies `soft_bounce`). Log ``PolicyVerdict/log`` either way.
///
/// With `smtpd_delay_reject = yes` (the default) the connect, HELO and MAIL checks accept
/// everything and the client, HELO and sender restrictions run at each RCPT (and ETRN) instead.
public struct AccessPolicy: Sendable {
    let settings: PolicySettings
    /// The DNS questions of the restrictions.
    public let dns: any PolicyDNSResolver
    /// The current time in seconds since the epoch, for `$localtime` in reply footers.
    public let now: @Sendable () -> Int
    /// Warnings found while reading the configuration (Postfix logs them at start-up).
    public let startupWarnings: [PolicyLogRecord]

    /// The policy of one master.cf service (or, with `service` nil, of main.cf alone).
    public init(
        configuration: Configuration, service: ServiceConfiguration? = nil, dns: any PolicyDNSResolver = SystemDNSResolver(),
        now: @escaping @Sendable () -> Int = { Int(time(nil)) }, tableOptions: TableOptions? = nil
    ) throws(PolicyConfigurationError) {
        try self.init(
            configuration: service ?? configuration.global, host: configuration.host, masterPath: configuration.master.path, dns: dns,
            now: now, tableOptions: tableOptions)
    }

    /// The policy of a service's parameter values.
    public init(
        configuration: ServiceConfiguration, host: HostFacts, masterPath: String = "master.cf",
        dns: any PolicyDNSResolver = SystemDNSResolver(), now: @escaping @Sendable () -> Int = { Int(time(nil)) },
        tableOptions: TableOptions? = nil
    ) throws(PolicyConfigurationError) {
        let scope = configuration.scope
        let location = { (parameter: String) -> SourceLocation? in
            switch scope.raw(parameter)?.source {
            case .mainConf(let line): SourceLocation(file: scope.main.path, line: line)
            case .serviceOverride(_, let line): SourceLocation(file: masterPath, line: line)
            default: nil
            }
        }
        let options = tableOptions ?? TableOptions(unicodeKeyFolding: configuration.bool("smtputf8_enable"))
        var settings = try PolicySettings(configuration, host: host, options: options, location: location)
        var warnings: [PolicyLogRecord] = []
        try Self.loadRestrictions(into: &settings, configuration, options: options, location: location, warnings: &warnings)
        self.settings = settings
        self.dns = dns
        self.now = now
        self.startupWarnings = warnings
    }

    /// Whether the client, HELO and sender restrictions wait for RCPT (`smtpd_delay_reject`).
    public var delaysRejections: Bool { settings.delayReject }

    /// The reply codes in effect.
    public var replyCodes: PolicyReplyCodes { settings.codes }

    // MARK: - Stages

    /// The client restrictions when the client connects (only with `smtpd_delay_reject = no`;
    /// Postfix then sends the reply in place of the greeting and repeats it for every command).
    public func checkConnect(_ session: inout PolicySession) async -> PolicyVerdict {
        guard !settings.delayReject else { return .accepted }
        return await evaluate(&session, stage: "CONNECT") { await $0.checkClient() }
    }

    /// The HELO restrictions for `heloName` (only with `smtpd_delay_reject = no`). `command` is
    /// `HELO` or `EHLO`. Set ``PolicySession/heloName`` when the command is accepted.
    public func checkHelo(_ session: inout PolicySession, heloName: String, command: String = "EHLO") async -> PolicyVerdict {
        guard !settings.delayReject else { return .accepted }
        return await evaluate(&session, stage: command) { await $0.checkHelo(heloName) }
    }

    /// The sender restrictions for `sender` in internal form, `""` for the null sender (only with
    /// `smtpd_delay_reject = no`). Set ``PolicySession/sender`` when the command is accepted.
    public func checkMail(_ session: inout PolicySession, sender: String) async -> PolicyVerdict {
        guard !settings.delayReject else { return .accepted }
        return await evaluate(&session, stage: "MAIL") { await $0.checkMail(sender) }
    }

    /// The recipient restrictions for `recipient` in internal form, after the delayed client,
    /// HELO and sender restrictions, then recipient validation. `command` is `RCPT` or `VRFY`.
    /// Call ``PolicySession/recipientAccepted(_:)`` when the recipient is accepted.
    public func checkRecipient(_ session: inout PolicySession, recipient: String, command: String = "RCPT") async -> PolicyVerdict {
        await evaluate(&session, stage: command) { await $0.checkRecipient(recipient) }
    }

    /// The DATA restrictions (`command` is `DATA` or `BDAT`).
    public func checkData(_ session: inout PolicySession, command: String = "DATA") async -> PolicyVerdict {
        await evaluate(&session, stage: command) { await $0.checkData(endOfData: false) }
    }

    /// The end-of-data restrictions, once the whole message has arrived.
    public func checkEndOfData(_ session: inout PolicySession) async -> PolicyVerdict {
        await evaluate(&session, stage: "END-OF-MESSAGE") { await $0.checkData(endOfData: true) }
    }

    /// The ETRN restrictions for `domain`, after the delayed client and HELO restrictions.
    public func checkETRN(_ session: inout PolicySession, domain: String) async -> PolicyVerdict {
        await evaluate(&session, stage: "ETRN") { await $0.checkETRN(domain) }
    }

    private func evaluate(
        _ session: inout PolicySession, stage: String, _ body: (inout Evaluation) async -> CheckStatus
    ) async -> PolicyVerdict {
        var evaluation = Evaluation(settings: settings, dns: dns, session: session, stage: stage)
        let status = await body(&evaluation)
        session = evaluation.session
        if evaluation.hangUp { return PolicyVerdict(reply: nil, log: evaluation.log, hangUp: true) }
        let reply = status == .reject ? PolicyReply(line: evaluation.errorText) : nil
        return PolicyVerdict(reply: reply, log: evaluation.log)
    }

    // MARK: - Replies and addresses

    // smtpd_chat.c, vsmtpd_chat_reply(): a 4xx or 5xx reply gets the footer of
    // smtpd_reject_footer_maps (looked up with the whole reply) or smtpd_reject_footer; then
    // soft_bounce turns every 5 into 4 in the reply and status codes, and every line but the
    // last gets '-' after its code.
    /// The lines to send for a reply (without CRLF): any server reply, not only the policy's.
    public func replyLines(_ reply: String, session: PolicySession) -> [String] {
        var lines = reply.components(separatedByLiteral: "\r\n")
        if lines.last == "" { lines.removeLast() }
        if let first = reply.utf8.first, first == UInt8(ascii: "4") || first == UInt8(ascii: "5") {
            var template = settings.rejectFooter
            if let maps = settings.rejectFooterMaps, let value = try? maps.lookup(reply)?.value { template = value }
            if !template.isEmpty {
                lines = ReplyFooter.apply(to: lines, template: template, expansionFilter: settings.expansionFilter) {
                    footerMacro($0, session: session)
                }
            }
        }
        return lines.enumerated().map { index, line in
            var bytes = Array(line.utf8)
            if settings.softBounce, bytes.first == UInt8(ascii: "5") {
                bytes[0] = UInt8(ascii: "4")
                if bytes.count > 4 && bytes[4] == UInt8(ascii: "5") { bytes[4] = UInt8(ascii: "4") }
            }
            if index < lines.count - 1 && bytes.count > 3 { bytes[3] = UInt8(ascii: "-") }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The lines of a policy reply.
    public func replyLines(_ reply: PolicyReply, session: PolicySession) -> [String] {
        replyLines(reply.line, session: session)
    }

    // smtpd_expand.c, smtpd_expand_lookup(): the macros a footer may use.
    private func footerMacro(_ name: String, session: PolicySession) -> String? {
        func addressPart(_ address: String?, _ suffix: Substring) -> String? {
            guard let address else { return "" }
            switch suffix {
            case "": return address.isEmpty ? "<>" : address
            case "_name":
                if address.isEmpty { return "<>" }
                return address.lastIndex(of: "@").map { String(address[..<$0]) } ?? address
            case "_domain":
                return AddressForms.domain(of: address).map(String.init) ?? ""
            default: return nil
            }
        }
        let client = session.client
        switch name {
        case "server_name": return settings.myhostname
        case "client":
            let base = "\(client.name)[\(client.address)]"
            return settings.clientPortLogging ? "\(base):\(client.port)" : base
        case "client_port": return client.port
        case "client_address": return client.address
        case "client_name": return client.name
        case "reverse_client_name": return client.reverseName
        case "helo_name": return session.heloName ?? ""
        case "localtime":
            var seconds = time_t(now())
            var parts = tm()
            localtime_r(&seconds, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let length = strftime(&buffer, buffer.count, "%b %d %H:%M:%S", &parts)
            return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        default:
            if name.hasPrefix("sender") { return addressPart(session.sender, name.dropFirst("sender".count)) }
            if name.hasPrefix("recipient") { return addressPart(session.firstRecipient, name.dropFirst("recipient".count)) }
            return nil
        }
    }

    // smtpd_check.c, smtpd_check_addr(): an address is refused ("501 5.1.3 Bad … address
    // syntax" in smtpd) when it resolves to an invalid destination, or — without SMTPUTF8 — when
    // its resolved domain is not ASCII.
    /// Whether a MAIL FROM or RCPT TO address (internal form) is acceptable syntax.
    public func isAcceptableAddress(_ address: String, smtputf8: Bool) -> Bool {
        guard !address.isEmpty else { return true }
        guard let resolution = try? settings.resolver.resolve(AddressForms.rewriteLocal(address, settings.rewrite)) else {
            return true
        }
        if resolution.isInvalid { return false }
        if !smtputf8, let domain = AddressForms.domain(of: resolution.recipient), !domain.utf8.allSatisfy({ $0 < 0x80 }) {
            return false
        }
        return true
    }
}
