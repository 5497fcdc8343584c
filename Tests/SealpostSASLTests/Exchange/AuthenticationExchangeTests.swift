import Testing
@testable import SealpostSASL

@Suite struct AuthenticationExchangeTests {
    let offered: [SASLMechanismName] = [.plain, .login]

    func exchange(_ mechanism: String, _ initial: String? = nil, limit: Int = 12288) -> AuthenticationExchange {
        AuthenticationExchange(mechanism: mechanism, initialResponse: initial, offered: offered, responseLimit: limit)
    }

    func result(_ action: AuthenticationExchange.Action) -> AuthenticationResult? {
        if case .finish(let result, _) = action { return result }
        Issue.record("expected the end of the exchange, got \(action)")
        return nil
    }

    @Test func plainWithInitialResponseSucceeds() {
        var machine = exchange("PLAIN", base64("\0bob\0secret"))
        #expect(machine.start() == .startBackEnd(mechanism: .plain, initialResponse: "\0bob\0secret".bytes))
        let end = result(machine.backEndAnswered(.success(username: "bob")))
        #expect(end?.reply.description == "235 2.7.0 Authentication successful")
        #expect(end?.username == "bob")
        #expect(end?.warning(client: "c[192.0.2.1]") == nil)
        #expect(end?.isFailedLogin == false)
    }

    @Test func equalsSignIsAnEmptyInitialResponse() {
        var machine = exchange("plain", "=")
        #expect(machine.start() == .startBackEnd(mechanism: .plain, initialResponse: []))
    }

    @Test func noInitialResponseAndChallenges() {
        var machine = exchange("LOGIN")
        #expect(machine.start() == .startBackEnd(mechanism: .login, initialResponse: nil))
        #expect(machine.backEndAnswered(.challenge("Username:".bytes)) == .sendChallenge(line: "334 VXNlcm5hbWU6", responseLimit: 12288))
        #expect(machine.clientResponded(base64("carol").bytes) == .continueBackEnd(response: "carol".bytes))
        #expect(machine.backEndAnswered(.challenge("Password:".bytes)) == .sendChallenge(line: "334 UGFzc3dvcmQ6", responseLimit: 12288))
        #expect(machine.clientResponded(base64("wrong").bytes) == .continueBackEnd(response: "wrong".bytes))
        let end = result(machine.backEndAnswered(.failure(reason: nil, username: "carol")))
        #expect(end?.reply.description == "535 5.7.8 Error: authentication failed: (reason unavailable)")
        #expect(end?.isFailedLogin == true)
        #expect(end?.warning(client: "unknown[192.0.2.1]")
            == "unknown[192.0.2.1]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=carol")
    }

    @Test func emptyChallengeIsThreeThreeFourSpace() {
        var machine = exchange("PLAIN")
        _ = machine.start()
        #expect(machine.backEndAnswered(.challenge([])) == .sendChallenge(line: "334 ", responseLimit: 12288))
        // An empty line is an empty response.
        #expect(machine.clientResponded([UInt8]()) == .continueBackEnd(response: []))
    }

    @Test func backEndReasonIsShown() {
        var machine = exchange("PLAIN", base64("\0bob\0x"))
        _ = machine.start()
        let end = result(machine.backEndAnswered(.failure(reason: "Password expired", username: nil)))
        #expect(end?.reply.description == "535 5.7.8 Error: authentication failed: Password expired")
        #expect(end?.warning(client: "h[a]") == "h[a]: SASL PLAIN authentication failed: Password expired, sasl_username=(unavailable)")
    }

    @Test func starCancels() {
        var machine = exchange("LOGIN")
        _ = machine.start()
        _ = machine.backEndAnswered(.challenge("Username:".bytes))
        let action = machine.clientResponded("*".bytes)
        #expect(action == .finish(AuthenticationResult(outcome: .aborted, mechanism: "LOGIN"), abandonBackEnd: true))
        #expect(result(action)?.reply.description == "501 5.7.0 Authentication aborted")
        #expect(result(action)?.warning(client: "h[a]") == "h[a]: SASL LOGIN authentication aborted")
        #expect(result(action)?.isFailedLogin == false)
    }

    @Test func badBase64() {
        for text in ["!!!!", "YWJ", "YW=j", "YWJj====", "YWJj\tYQ==", "=YWJ", "YQ==YQ=="] {
            var initial = exchange("PLAIN", text)
            let end = result(initial.start())
            #expect(end?.reply.description == "501 5.5.2 Cannot decode response", "\(text)")
            #expect(end?.warning(client: "h[a]") == "h[a]: SASL PLAIN authentication failed: Invalid base64 data in initial response, sasl_username=(unavailable)")
        }
        var continued = exchange("PLAIN")
        _ = continued.start()
        _ = continued.backEndAnswered(.challenge([]))
        let action = continued.clientResponded("not base64".bytes)
        guard case .finish(let end, let abandon) = action else {
            Issue.record("expected the end, got \(action)")
            return
        }
        #expect(abandon)
        #expect(end.reply == .cannotDecode)
        #expect(end.warning(client: "h[a]")?.contains("Invalid base64 data in continued response") == true)
    }

    @Test func responseLimit() {
        var machine = exchange("LOGIN", limit: 12)
        _ = machine.start()
        #expect(machine.backEndAnswered(.challenge("Username:".bytes)) == .sendChallenge(line: "334 VXNlcm5hbWU6", responseLimit: 12))
        let action = machine.clientResponseTooLong()
        #expect(result(action)?.reply.description == "500 5.5.6 SASL response limit exceeded")
        #expect(result(action)?.warning(client: "h[a]") == nil)
        guard case .finish(_, let abandon) = action else { return }
        #expect(abandon)

        // A line handed over in full is measured too, and so is the initial response.
        var longLine = exchange("LOGIN", limit: 12)
        _ = longLine.start()
        _ = longLine.backEndAnswered(.challenge("Username:".bytes))
        #expect(result(longLine.clientResponded(base64("a-long-user-name").bytes))?.reply == .responseLimitExceeded)
        var initial = exchange("PLAIN", base64("\0bob\0a-long-password"), limit: 12)
        #expect(result(initial.start())?.reply == .responseLimitExceeded)
    }

    @Test func mechanismNotOffered() {
        for name in ["CRAM-MD5", "XOAUTH2", "not a mechanism", ""] {
            var machine = AuthenticationExchange(mechanism: name, initialResponse: nil, offered: [.plain], responseLimit: 100)
            let end = result(machine.start())
            #expect(end?.reply.description == "535 5.7.8 Error: authentication failed: Invalid authentication mechanism")
            #expect(end?.isFailedLogin == false)
        }
        var login = AuthenticationExchange(mechanism: "LOGIN", initialResponse: nil, offered: [.plain], responseLimit: 100)
        #expect(result(login.start())?.reply == .failed(reason: "Invalid authentication mechanism"))
    }

    @Test func temporaryFailure() {
        var machine = exchange("PLAIN", "=")
        _ = machine.start()
        let end = result(machine.backEndAnswered(.temporaryFailure(reason: "Can't connect to authentication server")))
        #expect(end?.reply.description == "454 4.7.0 Temporary authentication failure: Can't connect to authentication server")
        #expect(end?.reply.isTemporary == true)
        #expect(end?.isFailedLogin == false)
    }

    @Test func eventsAfterTheEndRepeatTheResult() {
        var machine = exchange("PLAIN", base64("\0bob\0x"))
        _ = machine.start()
        let first = machine.backEndAnswered(.success(username: "bob"))
        #expect(machine.clientResponded("x".bytes) == first)
        #expect(machine.start() == first)
        // Out of order from the start: a temporary failure, never a crash.
        var early = exchange("PLAIN")
        #expect(result(early.clientResponded("x".bytes))?.reply.code == 454)
    }

    @Test func logFieldsArePrintableAndShort() {
        var machine = exchange("PL\u{1}AIN")
        let end = result(machine.start())
        #expect(end?.mechanism == "PL?AIN")
        let long = AuthenticationResult(outcome: .rejected(reason: "x", username: String(repeating: "u", count: 300)), mechanism: "PLAIN")
        #expect(long.warning(client: "h[a]")?.hasSuffix("sasl_username=" + String(repeating: "u", count: 100)) == true)
    }
}

@Suite struct ReplyTextTests {
    @Test func everyReply() {
        #expect(SASLReply.authenticated.description == "235 2.7.0 Authentication successful")
        #expect(SASLReply.failed(reason: "x").description == "535 5.7.8 Error: authentication failed: x")
        #expect(SASLReply.temporaryFailure(reason: "x").description == "454 4.7.0 Temporary authentication failure: x")
        #expect(SASLReply.aborted.description == "501 5.7.0 Authentication aborted")
        #expect(SASLReply.responseLimitExceeded.description == "500 5.5.6 SASL response limit exceeded")
        #expect(SASLReply.cannotDecode.description == "501 5.5.2 Cannot decode response")
        #expect(SASLReply.sendHELOFirst.description == "503 5.5.1 Error: send HELO/EHLO first")
        #expect(SASLReply.notEnabled.description == "503 5.5.1 Error: authentication not enabled")
        #expect(SASLReply.transactionInProgress.description == "503 5.5.1 Error: MAIL transaction in progress")
        #expect(SASLReply.encryptionRequired.description == "504 5.5.4 Encryption required for requested authentication mechanism")
        #expect(SASLReply.alreadyAuthenticated.description == "503 5.5.1 Error: already authenticated")
        #expect(SASLReply.syntax.description == "501 5.5.4 Syntax: AUTH mechanism")
        #expect(SASLReply.tooManyAuthCommands(from: "192.0.2.7").description == "450 4.7.1 Error: too many AUTH commands from 192.0.2.7")
        #expect(SASLReply.tooManyErrors(hostname: "mx.example.com").description == "421 4.7.0 mx.example.com Error: too many errors")
    }
}

@Suite struct Base64Tests {
    @Test func roundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Base64.encode(bytes)
            #expect(encoded == base64(bytes))
            #expect(Base64.decode(encoded.utf8) == bytes)
        }
    }

    @Test func refusesWhatIsNotPaddedStandardBase64() {
        for text in ["A", "AB", "ABC", "AB=C", "A===", "====", "AB==AB==", "YW-j", "YW_j", "YWJj ", " YWJj"] {
            #expect(Base64.decode(text.utf8) == nil, "\(text)")
        }
        #expect(Base64.decode("".utf8) == [])
        #expect(Base64.decode("AA==".utf8) == [0])
    }
}
