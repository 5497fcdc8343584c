import SealpostConfig
import Testing

@testable import SealpostPolicy

/// Every session recorded against Postfix 3.7.11, replayed against the policy: the same replies,
/// line for line, and the same policy log lines.
@Suite struct RecordedSessionTests {
    /// Sessions where Sealpost deliberately differs: Postfix 3.7.11 means to cut a reply at 510
    /// bytes (smtpd_check_reject(): "Ensure RFC compliance", vstring_truncate() then printable()),
    /// but vstring_truncate() does not terminate the string, so the whole text is sent and logged.
    /// Sealpost cuts it, as RFC 5321's 512-byte reply line limit requires.
    static let cutReplySessions: Set<String> = ["non-ASCII and long reply texts"]

    @Test(arguments: RecordedPostfixSessions.sessions)
    func replaysLikePostfix(_ recorded: RecordedSession) async throws {
        let environment = try PolicyTestEnvironment()
        let policy = try environment.policy(PolicyTestEnvironment.lines(recorded.overrides))
        var replay = Replay(policy: policy)
        let cutsReplies = Self.cutReplySessions.contains(recorded.name)
        var expectedLog = recorded.log.map { $0.replacingTables(with: environment.tablesPath) }
        for exchange in recorded.exchanges {
            let actual = await replay.run(exchange.command)
            var expected = exchange.reply.map { $0.replacingTables(with: environment.tablesPath) }
            if cutsReplies, let long = expected.first, long.utf8.count > 510 {
                let cut = String(decoding: long.utf8.prefix(510), as: UTF8.self)
                expected = [cut]
                expectedLog = expectedLog.map { $0.replacingOccurrences(of: long, with: cut) }
            }
            switch actual {
            case .lines(let lines):
                #expect(lines == expected, "\(recorded.name): \(exchange.command)")
            case .firstLine(let line):
                #expect(line == expected.first, "\(recorded.name): \(exchange.command)")
            case .notRejected:
                #expect(!(expected.first ?? "").contains("rejected:"), "\(recorded.name): \(exchange.command) → \(expected)")
            }
        }
        let firstDifference = Array(zip(replay.log, expectedLog)).firstIndex { $0 != $1 }
        let lengthDifference = replay.log.count == expectedLog.count ? nil : min(replay.log.count, expectedLog.count)
        if let index = firstDifference ?? lengthDifference {
            let actual = index < replay.log.count ? replay.log[index] : "(none)"
            let expected = index < expectedLog.count ? expectedLog[index] : "(none)"
            Issue.record("\(recorded.name): log line \(index)\n  actual:   \(actual)\n  expected: \(expected)")
        }
    }
}

/// smtpd's side of a recorded dialogue: XCLIENT, the commands, and "access denied" after a
/// rejected connection (delay_reject = no).
private struct Replay {
    enum Outcome {
        case lines([String])
        /// Only the first reply line is the policy's business (EHLO).
        case firstLine(String)
        /// The server's answer to an accepted command that the policy does not word (ETRN).
        case notRejected
    }

    let policy: AccessPolicy
    /// The connection's client, as a new connection from 127.0.0.1 has it.
    static let connectionClient = ClientIdentity(address: "127.0.0.1", name: "localhost", nameStatus: .ok)
    var driver: PolicyDriver
    var denied: String?
    var log: [String] = []

    init(policy: AccessPolicy) {
        self.policy = policy
        self.driver = PolicyDriver(policy, client: Self.connectionClient)
    }

    mutating func run(_ command: String) async -> Outcome {
        defer {
            log += driver.log
            driver.log = []
        }
        let words = command.split(separator: " ", maxSplits: 1).map(String.init)
        let verb = words.first?.uppercased() ?? ""
        let argument = words.count > 1 ? words[1] : ""
        if command == "<connect>" {
            driver = PolicyDriver(policy, client: Self.connectionClient)
            return connected(await driver.connect())
        }
        if verb == "XCLIENT" { return await xclient(argument) }
        if verb == "QUIT" { return .lines(["221 2.0.0 Bye"]) }
        if let denied { return .lines(["503 5.7.0 Error: access denied for \(denied)"]) }
        switch verb {
        case "EHLO", "HELO":
            let reply = await driver.ehlo(argument, command: verb)
            return reply.hasPrefix("250") ? .firstLine(reply) : .lines(reply.split(separator: "\n").map(String.init))
        case "MAIL":
            return lines(await driver.mail(internalAddress(String(argument.dropFirst("FROM:".count)))))
        case "RCPT":
            return lines(await driver.rcpt(internalAddress(String(argument.dropFirst("TO:".count)))))
        case "DATA":
            return lines(await driver.data())
        case "<END":
            return lines(await driver.endOfData())
        case "RSET":
            return lines(driver.rset())
        case "ETRN":
            let reply = await driver.etrn(argument)
            return reply.hasPrefix("250") ? .notRejected : lines(reply)
        default:
            Issue.record("unexpected command \(command)")
            return .lines([])
        }
    }

    private func lines(_ reply: String) -> Outcome {
        .lines(reply.split(separator: "\n").map(String.init))
    }

    private mutating func connected(_ reply: String) -> Outcome {
        if reply.hasPrefix("220") {
            denied = nil
        } else {
            let client = driver.session.client
            denied = "\(client.name)[\(client.address)]"
        }
        return lines(reply)
    }

    // smtpd.c, xclient_cmd(): NAME (with [UNAVAILABLE] and [TEMPUNAVAIL]) also sets the reverse
    // name when it is known; REVERSE_NAME, ADDR (IPV6: prefix), HELO and LOGIN; then the session
    // starts over as a new connection.
    private mutating func xclient(_ arguments: String) async -> Outcome {
        var client = Self.connectionClient
        var helo: String?
        var login: String?
        func status(_ value: String) -> (String, ClientNameStatus) {
            switch value {
            case "[UNAVAILABLE]": ("unknown", .permanentFailure)
            case "[TEMPUNAVAIL]": ("unknown", .temporaryFailure)
            default: (value, .ok)
            }
        }
        for attribute in arguments.split(separator: " ") {
            let parts = attribute.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "NAME":
                (client.name, client.nameStatus) = status(parts[1])
                if client.nameStatus == .ok { (client.reverseName, client.reverseNameStatus) = (client.name, .ok) }
            case "REVERSE_NAME":
                (client.reverseName, client.reverseNameStatus) = status(parts[1])
            case "ADDR":
                client.address = parts[1].hasPrefix("IPV6:") ? String(parts[1].dropFirst(5)) : parts[1]
            case "HELO":
                helo = parts[1] == "[UNAVAILABLE]" ? nil : parts[1]
            case "LOGIN":
                login = parts[1]
            default:
                break
            }
        }
        driver = PolicyDriver(policy, client: client)
        driver.session.heloName = helo
        if let login { driver.session.sasl = SASLLogin(method: "XCLIENT", username: login) }
        return connected(await driver.connect())
    }
}
