import Logging
import SealpostConfig
import SealpostPolicy
import SealpostTestSupport

/// DNS answers from a table, for tests: `(name, type) → result`, and `notFound` for the rest.
struct StaticDNSResolver: PolicyDNSResolver {
    var answers: [String: DNSLookupResult] = [:]
    var hostnames: [String: NameServiceResult] = [:]
    var addresses: [String: NameServiceResult] = [:]
    var fallback: DNSLookupResult = .notFound

    static func key(_ name: String, _ type: DNSRecordType) -> String { "\(name.lowercased())/\(type)" }

    func lookup(_ name: String, type: DNSRecordType) async -> DNSLookupResult {
        answers[Self.key(name, type)] ?? fallback
    }

    func hostname(forAddress address: String) async -> NameServiceResult {
        hostnames[address] ?? .notFound
    }

    func addresses(forHostname name: String) async -> NameServiceResult {
        addresses[name.lowercased()] ?? .notFound
    }
}

/// The host the recordings ran on, as far as the policy can tell.
let testHost = HostFacts(
    hostname: "mx.example.com",
    interfaceAddresses: [
        .init(address: "127.0.0.1", prefixLength: 8, isIPv6: false),
        .init(address: "192.0.2.2", prefixLength: 24, isIPv6: false),
    ],
    processID: 1)

/// A configuration directory with the recordings' tables and main.cf, plus `extra` lines.
final class PolicyTestEnvironment {
    let directory: TemporaryDirectory
    var tablesPath: String { directory.path + "/tables" }

    init() throws {
        directory = try TemporaryDirectory()
        for (name, text) in RecordedPostfixSessions.tables {
            try directory.write("tables/\(name)", text + "\n")
        }
    }

    /// The configuration of main.cf = the recordings' settings + `extra` (later lines win).
    func configuration(_ extra: String = "", master: String = "") throws -> Configuration {
        let text = (RecordedPostfixSessions.mainCf + "\n" + extra).replacingTables(with: tablesPath)
        try directory.write("main.cf", text + "\n")
        try directory.write("master.cf", master)
        return Configuration.load(directory: directory.path, host: testHost)
    }

    /// The policy of main.cf = the recordings' settings + `extra`.
    func policy(
        _ extra: String = "", dns: StaticDNSResolver = StaticDNSResolver(), now: @escaping @Sendable () -> Int = { 1_700_000_000 }
    ) throws -> AccessPolicy {
        try AccessPolicy(configuration: configuration(extra), dns: dns, now: now)
    }

    /// `name = value` lines.
    static func lines(_ settings: [(String, String)]) -> String {
        settings.map { "\($0.0) = \($0.1)" }.joined(separator: "\n")
    }
}

extension String {
    func replacingTables(with path: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: "$TABLES") {
            result += rest[..<range.lowerBound] + path
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

    fileprivate func range(of needle: String) -> Range<String.Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) { return index..<self.index(index, offsetBy: needle.count) }
            index = self.index(after: index)
        }
        return nil
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    fileprivate func range(of needle: String) -> Range<Substring.Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) { return index..<self.index(index, offsetBy: needle.count) }
            index = self.index(after: index)
        }
        return nil
    }
}

/// The clients of the recordings.
enum TestClients {
    static let outside = ClientIdentity(address: "192.0.2.9", name: "client.outside.test", nameStatus: .ok)
    static let inside = ClientIdentity(address: "10.1.2.3", name: "inside.example", nameStatus: .ok)
}

/// A small SMTP session driver over an ``AccessPolicy``: what smtpd does around the policy
/// checks (HELO sets the name, MAIL the sender, accepted recipients are counted, RSET resets),
/// with Postfix's replies for accepted commands.
struct PolicyDriver {
    let policy: AccessPolicy
    var session: PolicySession
    var log: [String] = []

    init(_ policy: AccessPolicy, client: ClientIdentity = TestClients.outside) {
        self.policy = policy
        self.session = PolicySession(client: client)
    }

    private mutating func record(_ verdict: PolicyVerdict) {
        log += verdict.log.map(\.description)
    }

    private func lines(_ verdict: PolicyVerdict) -> String? {
        verdict.reply.map { policy.replyLines($0, session: session).joined(separator: "\n") }
    }

    @discardableResult
    mutating func connect() async -> String {
        let verdict = await policy.checkConnect(&session)
        record(verdict)
        return lines(verdict) ?? "220 mx.example.com ESMTP"
    }

    @discardableResult
    mutating func ehlo(_ name: String, command: String = "EHLO") async -> String {
        let verdict = await policy.checkHelo(&session, heloName: name, command: command)
        record(verdict)
        if let reply = lines(verdict) { return reply }
        session.heloName = name
        session.protocolName = command == "EHLO" ? "ESMTP" : "SMTP"
        session.resetTransaction()
        return command == "EHLO" ? "250-mx.example.com" : "250 mx.example.com"
    }

    @discardableResult
    mutating func mail(_ sender: String) async -> String {
        if !policy.isAcceptableAddress(sender, smtputf8: session.smtputf8) { return "501 5.1.7 Bad sender address syntax" }
        let verdict = await policy.checkMail(&session, sender: sender)
        record(verdict)
        if let reply = lines(verdict) { return reply }
        session.sender = sender
        return "250 2.1.0 Ok"
    }

    @discardableResult
    mutating func rcpt(_ recipient: String) async -> String {
        guard session.sender != nil else { return "503 5.5.1 Error: need MAIL command" }
        if !policy.isAcceptableAddress(recipient, smtputf8: session.smtputf8) { return "501 5.1.3 Bad recipient address syntax" }
        let verdict = await policy.checkRecipient(&session, recipient: recipient)
        record(verdict)
        if let reply = lines(verdict) { return reply }
        session.recipientAccepted(recipient)
        if session.queueID == nil { session.queueID = "QUEUEID" }
        return "250 2.1.5 Ok"
    }

    @discardableResult
    mutating func data() async -> String {
        guard session.recipientCount > 0 else { return "554 5.5.1 Error: no valid recipients" }
        let verdict = await policy.checkData(&session)
        record(verdict)
        return lines(verdict) ?? "354 End data with <CR><LF>.<CR><LF>"
    }

    @discardableResult
    mutating func endOfData() async -> String {
        let verdict = await policy.checkEndOfData(&session)
        record(verdict)
        defer { session.resetTransaction() }
        return lines(verdict) ?? "250 2.0.0 Ok: queued as QUEUEID"
    }

    @discardableResult
    mutating func etrn(_ domain: String) async -> String {
        let verdict = await policy.checkETRN(&session, domain: domain)
        record(verdict)
        return lines(verdict) ?? "250 Queuing started"
    }

    mutating func rset() -> String {
        session.resetTransaction()
        return "250 2.0.0 Ok"
    }
}

/// The internal form of an SMTP path as smtpd's extract_addr() makes it: the angle brackets and
/// a source route removed, a quoted local part unquoted.
func internalAddress(_ path: String) -> String {
    var text = Substring(path)
    if text.hasPrefix("<") && text.hasSuffix(">") { text = text.dropFirst().dropLast() }
    if text.hasPrefix("@"), let colon = text.firstIndex(of: ":") { text = text[text.index(after: colon)...] }
    guard text.hasPrefix("\"") else { return String(text) }
    var local = ""
    var index = text.index(after: text.startIndex)
    while index < text.endIndex && text[index] != "\"" {
        if text[index] == "\\" { index = text.index(after: index) }
        if index < text.endIndex { local.append(text[index]) }
        index = text.index(after: index)
    }
    let rest = index < text.endIndex ? text[text.index(after: index)...] : ""
    return local + rest
}
