import Testing
@testable import SealpostSASL

@Suite struct PlainMechanismTests {
    @Test func initialResponseWithoutAuthzid() {
        var plain = PlainMechanism()
        #expect(plain.start(initialResponse: "\0bob\0secret".bytes) == .verify(SASLCredentials(authenticationIdentity: "bob", password: "secret".bytes)))
    }

    @Test func emptyChallengeThenMessage() {
        var plain = PlainMechanism()
        #expect(plain.start(initialResponse: nil) == .challenge([]))
        #expect(plain.receive("\0bob@example.com\0pass word".bytes)
            == .verify(SASLCredentials(authenticationIdentity: "bob@example.com", password: "pass word".bytes)))
    }

    @Test func authzidIsKept() {
        var plain = PlainMechanism()
        let action = plain.start(initialResponse: "admin\0bob\0secret".bytes)
        guard case .verify(let credentials) = action else {
            Issue.record("expected credentials, got \(action)")
            return
        }
        #expect(credentials.authorizationIdentity == "admin")
        #expect(credentials.requestsOtherIdentity)
        var same = PlainMechanism()
        guard case .verify(let own) = same.start(initialResponse: "bob\0bob\0secret".bytes) else { return }
        #expect(!own.requestsOtherIdentity)
    }

    @Test(arguments: [
        ("no NUL", "bobsecret", SASLMechanismFailure.malformedMessage),
        ("one NUL", "bob\0secret", .malformedMessage),
        ("three NULs", "\0bob\0sec\0ret", .malformedMessage),
        ("empty authcid", "\0\0secret", .invalidUsername),
        ("empty password", "\0bob\0", .emptyPassword),
        ("control character in authcid", "\0b\u{1}b\0secret", .invalidUsername),
        ("empty message", "", .malformedMessage),
    ])
    func malformedMessages(_ name: String, _ message: String, _ failure: SASLMechanismFailure) {
        var plain = PlainMechanism()
        #expect(plain.start(initialResponse: message.bytes) == .fail(failure), "\(name)")
    }

    @Test func invalidUTF8Username() {
        var plain = PlainMechanism()
        #expect(plain.start(initialResponse: [0, 0xC3, 0x28, 0, 0x41]) == .fail(.invalidUsername))
    }

    @Test func responsesAfterTheEndFail() {
        var plain = PlainMechanism()
        _ = plain.start(initialResponse: "\0bob\0secret".bytes)
        #expect(plain.receive("\0bob\0secret".bytes) == .fail(.unexpectedResponse))
        var twice = PlainMechanism()
        _ = twice.start(initialResponse: nil)
        #expect(twice.start(initialResponse: nil) == .fail(.unexpectedResponse))
    }
}

@Suite struct LoginMechanismTests {
    @Test func challengesAreUsernameAndPassword() {
        #expect(SASLReply.challengeLine(LoginMechanism.usernameChallenge) == "334 VXNlcm5hbWU6")
        #expect(SASLReply.challengeLine(LoginMechanism.passwordChallenge) == "334 UGFzc3dvcmQ6")
    }

    @Test func fullExchange() {
        var login = LoginMechanism()
        #expect(login.start(initialResponse: nil) == .challenge("Username:".bytes))
        #expect(login.receive("carol".bytes) == .challenge("Password:".bytes))
        #expect(login.receive("s3cret".bytes) == .verify(SASLCredentials(authenticationIdentity: "carol", password: "s3cret".bytes)))
        #expect(login.receive("more".bytes) == .fail(.unexpectedResponse))
    }

    @Test func initialResponseIsTheUsername() {
        var login = LoginMechanism()
        #expect(login.start(initialResponse: "dave".bytes) == .challenge("Password:".bytes))
        #expect(login.receive("pw".bytes) == .verify(SASLCredentials(authenticationIdentity: "dave", password: "pw".bytes)))
    }

    @Test func emptyUsernameOrPasswordFails() {
        var empty = LoginMechanism()
        #expect(empty.start(initialResponse: []) == .fail(.invalidUsername))
        var noPassword = LoginMechanism()
        _ = noPassword.start(initialResponse: nil)
        _ = noPassword.receive("erin".bytes)
        #expect(noPassword.receive([]) == .fail(.emptyPassword))
    }
}

@Suite struct CredentialsTests {
    @Test func descriptionsNeverShowThePassword() {
        let credentials = SASLCredentials(authorizationIdentity: "admin", authenticationIdentity: "bob", password: "hunter2".bytes)
        #expect(!credentials.description.contains("hunter2"))
        #expect(!String(reflecting: credentials).contains("hunter2"))
        var dumped = ""
        dump(credentials, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(!dumped.contains("104, 117, 110"))
        #expect(credentials.description.contains("bob"))
        let action = SASLMechanismAction.verify(credentials)
        #expect(!"\(action)".contains("hunter2"))
    }

    @Test func exchangeActionsAndResponsesShowLengthsOnly() {
        let secret = Array("\0bob\0hunter2".utf8)
        let actions: [AuthenticationExchange.Action] = [
            .startBackEnd(mechanism: .plain, initialResponse: secret), .continueBackEnd(response: secret),
        ]
        for action in actions {
            var dumped = ""
            dump(action, to: &dumped)
            for text in ["\(action)", String(reflecting: action), dumped] {
                #expect(text.contains("<12 bytes>"), "\(text)")
                #expect(!text.contains("104"), "\(text)")
            }
        }
        let response = SASLAuthenticator.ClientResponse.line(secret)
        #expect("\(response)" == "line(<12 bytes>)")
        var dumped = ""
        dump(response, to: &dumped)
        #expect(!dumped.contains("104"))
    }

    @Test func nulInAPasswordNeverMatches() {
        let stored = StoredPassword.crypt(hash: PasswdFileParsingTests.sha512, method: .sha512Crypt)
        #expect(PasswdFileBackEnd.matches(Array("secret".utf8), stored))
        #expect(!PasswdFileBackEnd.matches(Array("secret\0more".utf8), stored))
    }
}

@Suite struct MechanismNameTests {
    @Test func namesAreCaseInsensitive() {
        #expect(SASLMechanismName("plain") == .plain)
        #expect(SASLMechanismName("Login")?.rawValue == "LOGIN")
        #expect(SASLMechanismName("CRAM-MD5") != nil)
        #expect(SASLMechanismName("") == nil)
        #expect(SASLMechanismName("PLAIN LOGIN") == nil)
        #expect(SASLMechanismName(String(repeating: "A", count: 21)) == nil)
    }
}
