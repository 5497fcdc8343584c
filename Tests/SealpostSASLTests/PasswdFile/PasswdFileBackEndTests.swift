import Foundation
import SealpostTestSupport
import Testing
@testable import SealpostSASL

@Suite struct PasswdFileBackEndTests {
    static let sha512 = PasswdFileParsingTests.sha512  // "secret"

    struct Fixture {
        let directory: TemporaryDirectory
        let path: String
        let clock = ManualClock()
        let log = RecordingLog()
        let backEnd: PasswdFileBackEnd

        init(_ contents: String) throws {
            directory = try TemporaryDirectory()
            path = directory.path + "/passwd"
            try Fixture.replace(path, with: contents)
            backEnd = PasswdFileBackEnd(path: path, logger: log.logger, now: clock.reader)
        }

        /// Replaces the file the way editors and `sealpost passwd` do: a new file renamed over it.
        static func replace(_ path: String, with contents: String) throws {
            try contents.write(toFile: path + ".new", atomically: false, encoding: .utf8)
            chmod(path + ".new", 0o640)
            rename(path + ".new", path)
        }
    }

    func credentials(_ user: String, _ password: String, authzid: String? = nil) -> SASLCredentials {
        SASLCredentials(authorizationIdentity: authzid, authenticationIdentity: user, password: Array(password.utf8))
    }

    @Test func rightAndWrongPasswords() async throws {
        let fixture = try Fixture("alice:{SHA512-CRYPT}\(Self.sha512)\nbob@example.com:{PLAIN}hunter2\n")
        #expect(await fixture.backEnd.verify(credentials("alice", "secret")) == .success(username: "alice"))
        #expect(await fixture.backEnd.verify(credentials("ALICE", "secret")) == .success(username: "alice"))
        #expect(await fixture.backEnd.verify(credentials("alice", "Secret")) == .failure(reason: nil, username: "alice"))
        #expect(await fixture.backEnd.verify(credentials("bob@example.com", "hunter2")) == .success(username: "bob@example.com"))
        #expect(await fixture.backEnd.verify(credentials("nobody", "secret")) == .failure(reason: nil, username: "nobody"))
        // authzid: the login name itself is fine, anyone else is refused even with the right password.
        #expect(await fixture.backEnd.verify(credentials("alice", "secret", authzid: "alice")) == .success(username: "alice"))
        #expect(await fixture.backEnd.verify(credentials("alice", "secret", authzid: "bob@example.com"))
            == .failure(reason: nil, username: "alice"))
        // The PLAIN warning is logged once per load, and no password reaches the log.
        let messages = fixture.log.messages
        #expect(messages.filter { $0.contains("{PLAIN} password stored in clear text") }.count == 1)
        #expect(!messages.joined().contains("hunter2"))
        #expect(!messages.joined().contains("secret"))
        #expect(!messages.joined().contains(Self.sha512))
    }

    @Test func reloadsWhenTheFileChangesAtMostOncePerSecond() async throws {
        let fixture = try Fixture("alice:{PLAIN}one\n")
        #expect(await fixture.backEnd.verify(credentials("alice", "one")) == .success(username: "alice"))
        #expect(fixture.backEnd.loadCount == 1)

        try Fixture.replace(fixture.path, with: "alice:{PLAIN}two\n")
        // Within the second, the file is not looked at again.
        fixture.clock.advance(by: .milliseconds(999))
        #expect(await fixture.backEnd.verify(credentials("alice", "one")) == .success(username: "alice"))
        #expect(fixture.backEnd.loadCount == 1)

        fixture.clock.advance(by: .milliseconds(1))
        #expect(await fixture.backEnd.verify(credentials("alice", "two")) == .success(username: "alice"))
        #expect(await fixture.backEnd.verify(credentials("alice", "one")) == .failure(reason: nil, username: "alice"))
        #expect(fixture.backEnd.loadCount == 2)

        // An unchanged file is not read again.
        fixture.clock.advance(by: .seconds(5))
        #expect(await fixture.backEnd.verify(credentials("alice", "two")) == .success(username: "alice"))
        #expect(fixture.backEnd.loadCount == 2)

        // An edit in place (same inode, new size and time) is noticed too.
        try "alice:{PLAIN}three!\n".write(toFile: fixture.path, atomically: false, encoding: .utf8)
        fixture.clock.advance(by: .seconds(1))
        #expect(await fixture.backEnd.verify(credentials("alice", "three!")) == .success(username: "alice"))
        #expect(fixture.backEnd.loadCount == 3)
    }

    @Test func missingFileFailsTemporarilyUntilItAppears() async throws {
        let fixture = try Fixture("alice:{PLAIN}one\n")
        unlink(fixture.path)
        #expect(await fixture.backEnd.verify(credentials("alice", "one")) == .temporaryFailure(reason: "Authentication backend error"))
        #expect(fixture.log.messages.contains {
            $0 == "error: SASL passwd-file \(fixture.path): cannot open: No such file or directory; logins fail until it can be read"
        })
        try Fixture.replace(fixture.path, with: "alice:{PLAIN}one\n")
        #expect(await fixture.backEnd.verify(credentials("alice", "one")) == .temporaryFailure(reason: "Authentication backend error"))
        fixture.clock.advance(by: .seconds(1))
        #expect(await fixture.backEnd.verify(credentials("alice", "one")) == .success(username: "alice"))
    }

    @Test func loadFindingsAreLoggedWithFileAndLine() async throws {
        let fixture = try Fixture("# users\nalice:{SSHA}abc\n")
        chmod(fixture.path, 0o604)
        _ = await fixture.backEnd.verify(credentials("alice", "x"))
        let messages = fixture.log.messages
        #expect(messages.contains { $0.hasPrefix("error: \(fixture.path):2: user alice: unknown password scheme {SSHA}") })
        #expect(messages.contains { $0.hasPrefix("warning: \(fixture.path): mode 604 lets every user read the password hashes") })
    }

    @Test func mechanisms() async throws {
        let fixture = try Fixture("")
        let names = try await fixture.backEnd.availableMechanisms().map(\.name)
        #expect(names == [.plain, .login])
    }
}
