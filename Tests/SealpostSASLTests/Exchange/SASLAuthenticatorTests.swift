import Foundation
import SealpostTestSupport
import Testing
@testable import SealpostSASL

/// The whole AUTH exchange over the built-in back end, as the server drives it.
@Suite struct SASLAuthenticatorTests {
    let directory: TemporaryDirectory
    let log = RecordingLog()
    let authenticator: SASLAuthenticator

    init() throws {
        directory = try TemporaryDirectory()
        let path = try directory.write("passwd", "alice:{SHA512-CRYPT}\(PasswdFileParsingTests.sha512)\n")
        chmod(path, 0o600)
        let settings = SASLServerSettings(
            backEnd: .passwdFile(path: path),
            securityOptions: try SASLSecurityOptions(parsing: ["noanonymous", "noplaintext"], parameter: "x"),
            tlsSecurityOptions: .noAnonymous)
        authenticator = SASLAuthenticator(settings: settings, logger: log.logger)
    }

    let plaintext = SASLSessionInfo(clientAddress: "192.0.2.1", serverAddress: "192.0.2.25", isEncrypted: false)
    let encrypted = SASLSessionInfo(clientAddress: "192.0.2.1", serverAddress: "192.0.2.25", isEncrypted: true)

    /// A client that answers the challenges with these lines, recording the challenges.
    final class ScriptedClient: @unchecked Sendable {
        var lines: [String]
        var challenges: [String] = []
        init(_ lines: [String]) { self.lines = lines }

        func respond(_ challenge: String, _ limit: Int) throws -> SASLAuthenticator.ClientResponse {
            challenges.append(challenge)
            guard !lines.isEmpty else { throw CancellationError() }
            let line = lines.removeFirst()
            return line.utf8.count > limit ? .tooLong : .line(Array(line.utf8))
        }
    }

    func run(_ mechanism: String, _ initial: String? = nil, _ client: ScriptedClient, session: SASLSessionInfo? = nil) async throws
        -> AuthenticationResult
    {
        try await authenticator.authenticate(mechanism: mechanism, initialResponse: initial, session: session ?? encrypted) {
            try client.respond($0, $1)
        }
    }

    @Test func mechanismsDependOnTLS() async throws {
        #expect(try await authenticator.mechanisms(encrypted: false) == [])
        #expect(try await authenticator.mechanisms(encrypted: true) == [.plain, .login])
    }

    @Test func plainInitialResponse() async throws {
        let client = ScriptedClient([])
        let result = try await run("PLAIN", base64("\0alice\0secret"), client)
        #expect(result.reply.description == "235 2.7.0 Authentication successful")
        #expect(result.username == "alice")
        #expect(client.challenges.isEmpty)
    }

    @Test func plainAfterEmptyChallenge() async throws {
        let client = ScriptedClient([base64("\0alice\0wrong")])
        let result = try await run("plain", nil, client)
        #expect(client.challenges == ["334 "])
        #expect(result.reply.description == "535 5.7.8 Error: authentication failed: (reason unavailable)")
        #expect(result.isFailedLogin)
        #expect(result.warning(client: "unknown[192.0.2.1]")
            == "unknown[192.0.2.1]: SASL plain authentication failed: (reason unavailable), sasl_username=alice")
    }

    @Test func loginDialog() async throws {
        let client = ScriptedClient([base64("alice"), base64("secret")])
        let result = try await run("LOGIN", nil, client)
        #expect(client.challenges == ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"])
        #expect(result.reply == .authenticated)
    }

    @Test func loginWithInitialResponseAndCancel() async throws {
        let client = ScriptedClient(["*"])
        let result = try await run("LOGIN", base64("alice"), client)
        #expect(client.challenges == ["334 UGFzc3dvcmQ6"])
        #expect(result.reply.description == "501 5.7.0 Authentication aborted")
    }

    @Test func plaintextBeforeTLSIsNotOffered() async throws {
        let result = try await run("PLAIN", base64("\0alice\0secret"), ScriptedClient([]), session: plaintext)
        #expect(result.reply.description == "535 5.7.8 Error: authentication failed: Invalid authentication mechanism")
    }

    @Test func malformedAndOverlongResponses() async throws {
        #expect(try await run("PLAIN", "%%%%", ScriptedClient([])).reply.description == "501 5.5.2 Cannot decode response")
        let long = String(repeating: "QUFB", count: 4000)
        #expect(try await run("PLAIN", nil, ScriptedClient([long])).reply.description == "500 5.5.6 SASL response limit exceeded")
        #expect(try await run("PLAIN", "=", ScriptedClient([])).reply.code == 535)
        #expect(try await run("PLAIN", base64("alice"), ScriptedClient([])).reply.code == 535)
    }

    @Test func clientGoingAwayIsPassedOn() async throws {
        await #expect(throws: CancellationError.self) {
            _ = try await run("LOGIN", nil, ScriptedClient([base64("alice")]))
        }
    }
}
