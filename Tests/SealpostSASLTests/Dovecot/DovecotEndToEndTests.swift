import Foundation
import SealpostTestSupport
import Testing
@testable import SealpostSASL

/// SMTP AUTH through a real Dovecot auth server.
@Suite(.serialized) struct DovecotEndToEndTests {
    static let alicePassword = "alice's password"
    static let bobPassword = "bob: pass word"

    /// alice has a SHA512-CRYPT hash made by doveadm, bob@example.com a yescrypt hash made by
    /// Sealpost (in a file written by Sealpost's editor), carol a {PLAIN} password.
    static func passwdFile() throws -> String? {
        guard let doveadm = Peer.path("doveadm") else { return nil }
        let alice = try Peer.run(doveadm, ["pw", "-s", "SHA512-CRYPT", "-p", alicePassword]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var contents = Array("# test users\nalice:\(alice)\ncarol:{PLAIN}carol-pw::::::\n".utf8)
        let bob = try PasswordHasher.passwordField(for: Array(bobPassword.utf8), method: .yescrypt)
        contents = PasswdFileEditor.settingPassword(bob, for: "bob@example.com", in: contents).bytes
        return String(decoding: contents, as: UTF8.self)
    }

    struct Fixture {
        let dovecot: DovecotInstance
        let log = RecordingLog()
        let backEnd: DovecotBackEnd
        let authenticator: SASLAuthenticator

        init?(securityOptions: SASLSecurityOptions = .noAnonymous, timeout: Duration = .seconds(10)) throws {
            guard let passwd = try DovecotEndToEndTests.passwdFile(), let dovecot = try DovecotInstance.start(passwd: passwd) else {
                _ = Peer.require("doveadm", package: "dovecot-core")
                return nil
            }
            self.dovecot = dovecot
            backEnd = DovecotBackEnd(endpoint: .unix(path: dovecot.socketPath), timeout: timeout, logger: log.logger)
            let settings = SASLServerSettings(
                backEnd: .dovecot(.unix(path: dovecot.socketPath)), securityOptions: securityOptions,
                tlsSecurityOptions: .noAnonymous)
            authenticator = SASLAuthenticator(settings: settings, backEnd: backEnd, logger: log.logger)
        }

        /// Closes Sealpost's connection, then stops Dovecot.
        func tearDown() async {
            await authenticator.shutdown()
            dovecot.stop()
        }
    }

    static func session(_ client: String, encrypted: Bool = true) -> SASLSessionInfo {
        SASLSessionInfo(clientAddress: client, clientPort: 40000, serverAddress: "127.0.0.1", serverPort: 587, isEncrypted: encrypted)
    }

    /// Runs AUTH with scripted client lines; returns the result and the challenges sent.
    static func authenticate(
        _ authenticator: SASLAuthenticator, _ mechanism: String, _ initial: String?, responses: [String] = [],
        client: String = "192.0.2.1", encrypted: Bool = true
    ) async throws -> (AuthenticationResult, [String]) {
        let script = Script(responses)
        let result = try await authenticator.authenticate(
            mechanism: mechanism, initialResponse: initial, session: session(client, encrypted: encrypted)
        ) { challenge, _ in
            try script.next(challenge)
        }
        return (result, script.challenges)
    }

    final class Script: @unchecked Sendable {
        private let lock = NSLock()
        private var responses: [String]
        private(set) var challenges: [String] = []
        init(_ responses: [String]) { self.responses = responses }
        func next(_ challenge: String) throws -> SASLAuthenticator.ClientResponse {
            lock.lock()
            defer { lock.unlock() }
            challenges.append(challenge)
            guard !responses.isEmpty else { throw CancellationError() }
            return .line(Array(responses.removeFirst().utf8))
        }
    }

    @Test func plainAndLoginWithGoodAndBadPasswords() async throws {
        guard let fixture = try Fixture() else { return }
        let auth = fixture.authenticator

        let (plain, _) = try await Self.authenticate(auth, "PLAIN", base64("\0alice\0\(Self.alicePassword)"))
        #expect(plain.reply.description == "235 2.7.0 Authentication successful")
        #expect(plain.username == "alice")

        let (wrong, _) = try await Self.authenticate(auth, "PLAIN", base64("\0alice\0wrong"), client: "192.0.2.77")
        #expect(wrong.reply.description == "535 5.7.8 Error: authentication failed: (reason unavailable)")
        #expect(wrong.isFailedLogin)
        #expect(wrong.warning(client: "unknown[192.0.2.77]")
            == "unknown[192.0.2.77]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice")
        // Dovecot saw the client's address (rip).
        #expect(fixture.dovecot.log.contains("passwd-file(alice,192.0.2.77): Password mismatch"))

        let (login, loginChallenges) = try await Self.authenticate(
            auth, "login", nil, responses: [base64("bob@example.com"), base64(Self.bobPassword)])
        #expect(loginChallenges == ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"])
        #expect(login.reply == .authenticated)
        #expect(login.username == "bob@example.com")

        let (badLogin, _) = try await Self.authenticate(
            auth, "LOGIN", base64("bob@example.com"), responses: [base64("nope")], client: "192.0.2.78")
        #expect(badLogin.reply.description == "535 5.7.8 Error: authentication failed: (reason unavailable)")

        let (noInitial, noInitialChallenges) = try await Self.authenticate(
            auth, "PLAIN", nil, responses: [base64("\0carol\0carol-pw")])
        #expect(noInitialChallenges == ["334 "])
        #expect(noInitial.username == "carol")

        // Dovecot lower-cases login names (auth_username_format = %Lu).
        let (upper, _) = try await Self.authenticate(auth, "PLAIN", base64("\0ALICE\0\(Self.alicePassword)"))
        #expect(upper.username == "alice")
        await fixture.tearDown()
    }

    @Test func authzidEmptyResponseAndCancel() async throws {
        guard let fixture = try Fixture() else { return }
        let auth = fixture.authenticator
        let (same, _) = try await Self.authenticate(auth, "PLAIN", base64("alice\0alice\0\(Self.alicePassword)"))
        #expect(same.username == "alice")
        // Another authzid needs a master passdb, which this Dovecot lacks.
        let (other, _) = try await Self.authenticate(auth, "PLAIN", base64("carol\0alice\0\(Self.alicePassword)"), client: "192.0.2.80")
        #expect(other.reply.description == "535 5.7.8 Error: authentication failed: (reason unavailable)")
        #expect(fixture.dovecot.log.contains("Master user login attempted without master passdbs"))
        let (empty, _) = try await Self.authenticate(auth, "PLAIN", "=", client: "192.0.2.81")
        #expect(empty.reply.code == 535)
        let (cancelled, challenges) = try await Self.authenticate(auth, "LOGIN", nil, responses: [base64("alice"), "*"])
        #expect(challenges == ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"])
        #expect(cancelled.reply.description == "501 5.7.0 Authentication aborted")
        // The connection still works after an abandoned request.
        let (after, _) = try await Self.authenticate(auth, "PLAIN", base64("\0alice\0\(Self.alicePassword)"))
        #expect(after.reply == .authenticated)
        #expect(await fixture.backEnd.connectionsOpened == 1)
        await fixture.tearDown()
    }

    @Test func mechanismsComeFromTheHandshake() async throws {
        guard let fixture = try Fixture(securityOptions: try SASLSecurityOptions(parsing: ["noanonymous", "noplaintext"], parameter: "x"))
        else { return }
        #expect(try await fixture.backEnd.availableMechanisms() == [
            SASLMechanismDescription(name: .plain, properties: .plaintext),
            SASLMechanismDescription(name: .login, properties: .plaintext),
        ])
        #expect(try await fixture.authenticator.mechanisms(encrypted: true) == [.plain, .login])
        #expect(try await fixture.authenticator.mechanisms(encrypted: false) == [])
        let (refused, _) = try await Self.authenticate(
            fixture.authenticator, "PLAIN", base64("\0alice\0\(Self.alicePassword)"), encrypted: false)
        #expect(refused.reply.description == "535 5.7.8 Error: authentication failed: Invalid authentication mechanism")
        await fixture.tearDown()
    }

    @Test func oneConnectionServesConcurrentSessions() async throws {
        guard let fixture = try Fixture() else { return }
        let auth = fixture.authenticator
        let results = try await withThrowingTaskGroup(of: (Int, AuthenticationResult).self) { group in
            for index in 0..<24 {
                group.addTask {
                    let good = index % 2 == 0
                    let password = good ? Self.alicePassword : "wrong \(index)"
                    let (result, _) = try await Self.authenticate(
                        auth, "PLAIN", base64("\0alice\0\(password)"), client: "198.51.100.\(index + 1)")
                    return (index, result)
                }
            }
            var collected: [Int: AuthenticationResult] = [:]
            for try await (index, result) in group { collected[index] = result }
            return collected
        }
        for (index, result) in results {
            #expect(result.reply.code == (index % 2 == 0 ? 235 : 535), "session \(index): \(result.reply)")
        }
        #expect(await fixture.backEnd.connectionsOpened == 1)
        await fixture.tearDown()
    }

    @Test func dovecotDownIsATemporaryFailureAndARestartIsPickedUp() async throws {
        guard let fixture = try Fixture() else { return }
        let auth = fixture.authenticator
        #expect(try await Self.authenticate(auth, "PLAIN", base64("\0alice\0\(Self.alicePassword)")).0.reply == .authenticated)

        fixture.dovecot.stop()
        // Sealpost notices the closed connection; from then on connecting fails.
        var unavailable = false
        for _ in 0..<100 where !unavailable {
            do {
                _ = try await auth.mechanisms(encrypted: true)
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                unavailable = true
            }
        }
        #expect(unavailable)
        let (down, _) = try await Self.authenticate(auth, "PLAIN", base64("\0alice\0\(Self.alicePassword)"))
        #expect(down.reply.description == "454 4.7.0 Temporary authentication failure: Can't connect to authentication server")
        #expect(!down.isFailedLogin)
        #expect(fixture.log.messages.contains {
            $0.hasPrefix("warning: SASL: Connect to Dovecot auth socket '\(fixture.dovecot.socketPath)' failed: ")
        })

        try fixture.dovecot.start()
        #expect(try await Self.authenticate(auth, "PLAIN", base64("\0alice\0\(Self.alicePassword)")).0.reply == .authenticated)
        #expect(await fixture.backEnd.connectionsOpened >= 2)
        // No password in Sealpost's log.
        #expect(!fixture.log.messages.joined().contains(Self.alicePassword))
        await fixture.tearDown()
    }
}

/// Dovecot-protocol peers that misbehave: a socket that never answers, a server that hangs up.
@Suite struct DovecotFailureTests {
    @Test func missingSocket() async throws {
        let directory = try TemporaryDirectory()
        let log = RecordingLog()
        let path = directory.path + "/no-such-socket"
        let backEnd = DovecotBackEnd(endpoint: .unix(path: path), logger: log.logger)
        let authenticator = SASLAuthenticator(settings: SASLServerSettings(backEnd: .dovecot(.unix(path: path))), backEnd: backEnd, logger: log.logger)
        let (result, _) = try await DovecotEndToEndTests.authenticate(authenticator, "PLAIN", base64("\0a\0b"))
        #expect(result.reply.description == "454 4.7.0 Temporary authentication failure: Can't connect to authentication server")
        #expect(log.messages.contains("warning: SASL: Connect to Dovecot auth socket '\(path)' failed: No such file or directory"))
    }

    @Test func silentServerTimesOut() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/silent"
        let listener = try ScriptedAuthServer(path: path, script: .silent)
        defer { listener.stop() }
        let log = RecordingLog()
        let backEnd = DovecotBackEnd(endpoint: .unix(path: path), timeout: .milliseconds(300), logger: log.logger)
        // The handshake timeout, not the silent server, ends the wait (no wall-clock assertion:
        // a loaded test machine may take longer to get there).
        await #expect(throws: SASLBackEndUnavailable.self) { try await backEnd.availableMechanisms() }
        #expect(log.messages.contains("warning: SASL: Dovecot auth socket '\(path)' sent no handshake within 0.3s"))
    }

    /// A connection that completes after the wait for it ended (shut down, or the handshake
    /// timed out) is closed, not dropped: NIO traps on an NIOAsyncChannel dropped unclosed. The
    /// interleaving is up to the scheduler, hence the many rounds at varied delays.
    @Test func connectionCompletingAfterShutdownIsClosed() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/silent"
        let listener = try ScriptedAuthServer(path: path, script: .silent)
        defer { listener.stop() }
        let log = RecordingLog()
        for round in 0..<60 {
            let backEnd = DovecotBackEnd(endpoint: .unix(path: path), timeout: .milliseconds(round % 3 + 1), logger: log.logger)
            let request = Task { try? await backEnd.availableMechanisms() }
            try await Task.sleep(for: .microseconds(100 * (round % 7)))
            await backEnd.shutdown()
            #expect(await request.value == nil)
        }
    }

    @Test func serverHangingUpMidRequest() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/hangup"
        let listener = try ScriptedAuthServer(path: path, script: .hangUpAfterAuth)
        defer { listener.stop() }
        let log = RecordingLog()
        let backEnd = DovecotBackEnd(endpoint: .unix(path: path), timeout: .seconds(5), logger: log.logger)
        var conversation = backEnd.makeConversation(mechanism: .plain, session: DovecotEndToEndTests.session("192.0.2.9"), service: "smtp")
        let step = await conversation.start(initialResponse: Array("\0a\0b".utf8))
        #expect(step == .temporaryFailure(reason: "Connection lost to authentication server"))
    }

    @Test func replyWithoutAnswerTimesOut() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/mute"
        let listener = try ScriptedAuthServer(path: path, script: .handshakeOnly)
        defer { listener.stop() }
        let log = RecordingLog()
        let backEnd = DovecotBackEnd(endpoint: .unix(path: path), timeout: .milliseconds(300), logger: log.logger)
        var conversation = backEnd.makeConversation(mechanism: .plain, session: DovecotEndToEndTests.session("192.0.2.9"), service: "smtp")
        #expect(await conversation.start(initialResponse: Array("\0a\0b".utf8)) == .temporaryFailure(reason: "Connection lost to authentication server"))
        #expect(log.messages.contains("warning: SASL: Dovecot auth server \(path) did not answer within 0.3s"))
    }

    @Test func temporaryFailFromDovecotIs454() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/tempfail"
        let listener = try ScriptedAuthServer(path: path, script: .replyToAuth("FAIL\t{id}\tuser=a\tcode=temp_fail\treason=passdb down"))
        defer { listener.stop() }
        let log = RecordingLog()
        let backEnd = DovecotBackEnd(endpoint: .unix(path: path), logger: log.logger)
        let authenticator = SASLAuthenticator(settings: SASLServerSettings(backEnd: .dovecot(.unix(path: path))), backEnd: backEnd, logger: log.logger)
        let (result, _) = try await DovecotEndToEndTests.authenticate(authenticator, "PLAIN", base64("\0a\0b"))
        #expect(result.reply.description == "454 4.7.0 Temporary authentication failure: passdb down")
    }

    @Test func wrongSocketIsRecognised() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/master"
        let listener = try ScriptedAuthServer(path: path, script: .authMaster)
        defer { listener.stop() }
        let log = RecordingLog()
        let backEnd = DovecotBackEnd(endpoint: .unix(path: path), logger: log.logger)
        await #expect(throws: SASLBackEndUnavailable.self) { try await backEnd.availableMechanisms() }
        #expect(log.messages.contains("warning: SASL: Connected to wrong auth socket (auth-master instead of auth-client)"))
    }
}
