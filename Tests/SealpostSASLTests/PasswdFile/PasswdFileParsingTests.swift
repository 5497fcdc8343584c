import Foundation
import SealpostConfig
import SealpostTestSupport
import Testing
@testable import SealpostSASL

@Suite struct PasswdFileParsingTests {
    // Hashes of "secret" made once with mkpasswd and doveadm pw, so parsing tests need no tools.
    static let sha512 = "$6$vK8QAH5EGqAlTM9c$86bpwKv7rd18jY8TSe6Xi3W9PszG/9jexhV6b7LfkV0AWxa9tG533NsSaJdwEDsx1agX7kVU1kuDDsX8zro5I/"
    static let yescrypt = "$y$j9T$9l2QQqzbwyAGGpumppHyC/$0b1s0mrG.V4jKC.4EgdWiWLH/wEaeoGt5w0dwRhqkx1"
    static let bcrypt = "$2y$05$t8glXLak8FySpQwGBFUjTOcmJ19op4qRmVOr9bptGvRQkvPlVgxQa"
    static let sha256 = "$5$29tDOlVV9tcNwwPt$kITfzo3qgsClkLQviVzI.VUsjmu8zIjvvEjqPsfenH."

    func parse(_ text: String) -> PasswdFile {
        PasswdFile(path: "/etc/sealpost/passwd", contents: Array(text.utf8))
    }

    @Test func dovecotLinesCommentsAndBlankLines() {
        let file = parse("""
            # users of the submission service

            alice:{SHA512-CRYPT}\(Self.sha512)
            bob@example.com:{CRYPT}\(Self.yescrypt):1000:1000::/home/bob::userdb_quota_rule=*:storage=1G
              # an indented comment
            carol:\(Self.bcrypt)::::::\r
            dave:{SHA256-CRYPT}\(Self.sha256)
            """)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        #expect(file.usernames == ["alice", "bob@example.com", "carol", "dave"])
        #expect(file.entry(for: "alice")?.password == .crypt(hash: Self.sha512, method: .sha512Crypt))
        #expect(file.entry(for: "BOB@Example.COM")?.username == "bob@example.com")
        #expect(file.entry(for: "bob@example.com")?.password == .crypt(hash: Self.yescrypt, method: .yescrypt))
        #expect(file.entry(for: "carol")?.password == .crypt(hash: Self.bcrypt, method: .bcrypt))
        #expect(file.entry(for: "carol")?.line == 6)
        #expect(file.entry(for: "dave")?.password == .crypt(hash: Self.sha256, method: .sha256Crypt))
        #expect(file.entry(for: "erin") == nil)
    }

    @Test func plainIsAcceptedWithAWarning() {
        let file = parse("erin:{PLAIN}pass:word\nfrank:{CLEARTEXT}x\n")
        #expect(file.entry(for: "erin")?.password == .plain(Array("pass".utf8)))
        #expect(file.diagnostics.count == 2)
        #expect(file.diagnostics[0].severity == .warning)
        #expect(file.diagnostics[0].description
            == "/etc/sealpost/passwd:1: user erin: {PLAIN} password stored in clear text; replace it with a hash: sealpost passwd add erin")
    }

    @Test func unknownSchemesAreErrorsThatNameFileAndLine() throws {
        let file = parse("""
            alice:{SSHA512}abcdef
            bob:{MD5-CRYPT}$1$abc$def
            carol:$1$abcdefgh$0123456789012345678901
            dave:abJnggxhB/yWI
            erin:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g
            frank:$6$broken
            """)
        let errors = file.diagnostics.filter { $0.severity == .error }
        try #require(errors.count == 6, "\(file.diagnostics)")
        #expect(errors[0].description.hasPrefix(
            "/etc/sealpost/passwd:1: user alice: unknown password scheme {SSHA512}; expected {SHA512-CRYPT}, {SHA256-CRYPT}, {BLF-CRYPT}"))
        #expect(errors[0].description.hasSuffix("; logins as alice are refused"))
        #expect(errors[1].description.contains("passwd:2: user bob: the {MD5-CRYPT} scheme is too weak"))
        #expect(errors[2].description.contains("passwd:3: user carol: an MD5-CRYPT hash ($1$), which is too weak"))
        #expect(errors[3].description.contains("passwd:4: user dave: a DES-CRYPT or malformed hash"))
        #expect(errors[4].description.contains("passwd:5: user erin: unknown password scheme {ARGON2ID}"))
        #expect(errors[5].description.contains("passwd:6: user frank: a malformed SHA512-CRYPT hash"))
        // The users exist but cannot log in.
        #expect(file.entry(for: "alice") != nil)
        #expect(file.entry(for: "alice")?.password == nil)
    }

    @Test func malformedLines() {
        let file = parse("just-a-name\nbad user:x\n:skipped\nok:{PLAIN}x\n")
        let errors = file.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.location?.line) == [1, 2])
        #expect(errors[0].message.hasPrefix("no ':' after the user name"))
        #expect(errors[1].message.contains("white space or control characters"))
        #expect(file.usernames == ["ok"])
    }

    @Test func duplicatesKeepTheFirstLine() {
        let file = parse("alice:{PLAIN}one\nALICE:{PLAIN}two\n")
        #expect(file.entry(for: "alice")?.password == .plain(Array("one".utf8)))
        #expect(file.diagnostics.contains { $0.description == "/etc/sealpost/passwd:2: user ALICE is also on line 1; that line is used" })
    }

    @Test func emptyPasswordAndMismatchedLabel() {
        let file = parse("nopass:\nlabelled:{SHA512-CRYPT}\(Self.yescrypt)\n")
        #expect(file.entry(for: "nopass")?.password == nil)
        #expect(file.diagnostics[0].message == "user nopass has no password; logins as nopass are refused")
        #expect(file.entry(for: "labelled")?.password == .crypt(hash: Self.yescrypt, method: .yescrypt))
        #expect(file.diagnostics[1].severity == .warning)
        #expect(file.diagnostics[1].message.contains("the scheme is {SHA512-CRYPT} but the hash is CRYPT (yescrypt)"))
    }

    @Test func descriptionsHideHashes() {
        let stored = StoredPassword.crypt(hash: Self.sha512, method: .sha512Crypt)
        #expect("\(stored)" == "SHA512-CRYPT hash")
        #expect("\(StoredPassword.plain(Array("secret".utf8)))" == "PLAIN password")
        var dumped = ""
        dump(parse("alice:{PLAIN}secret\nbob:\(Self.sha512)\n"), to: &dumped)
        #expect(!dumped.contains("secret"))
        #expect(!dumped.contains("115"))
        #expect(!dumped.contains(Self.sha512))
    }

    @Test func permissionsReadableByOthersAreAWarning() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("passwd", "alice:{SHA512-CRYPT}\(Self.sha512)\n")
        chmod(path, 0o644)
        let loose = try PasswdFile.load(path: path)
        #expect(loose.diagnostics.count == 1)
        #expect(loose.diagnostics[0].code == "passwd-file-mode")
        #expect(loose.diagnostics[0].description == "\(path): mode 644 lets every user read the password hashes; chmod o-rwx \(path)")
        chmod(path, 0o640)
        #expect(try PasswdFile.load(path: path).diagnostics.isEmpty)
        #expect(throws: PasswdFileError.self) { try PasswdFile.load(path: directory.path + "/missing") }
        do {
            _ = try PasswdFile.load(path: directory.path + "/missing")
        } catch {
            #expect(error.description == "\(directory.path)/missing: cannot open: No such file or directory")
        }
    }
}
