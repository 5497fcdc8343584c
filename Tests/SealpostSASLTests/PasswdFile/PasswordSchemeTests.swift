import Foundation
import SealpostTestSupport
import Testing
@testable import SealpostSASL

/// Every scheme, with hashes made by independent tools: Sealpost must accept the right password
/// and refuse a wrong one.
@Suite struct PasswordSchemeTests {
    static let password = "correct horse battery staple"

    /// Checks one passwd-file password field.
    func check(_ field: String, tool: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let file = PasswdFile(path: "test", contents: Array("user:\(field)\n".utf8))
        #expect(file.diagnostics.filter { $0.severity == .error }.isEmpty, "\(tool): \(file.diagnostics)", sourceLocation: sourceLocation)
        guard let stored = file.entry(for: "user")?.password else {
            Issue.record("\(tool): no usable password in \(field)", sourceLocation: sourceLocation)
            return
        }
        #expect(PasswdFileBackEnd.matches(Array(Self.password.utf8), stored), "\(tool) \(field)", sourceLocation: sourceLocation)
        #expect(!PasswdFileBackEnd.matches(Array("correct horse battery stapl".utf8), stored), "\(tool)", sourceLocation: sourceLocation)
        #expect(!PasswdFileBackEnd.matches(Array((Self.password + "x").utf8), stored), "\(tool)", sourceLocation: sourceLocation)
        #expect(!PasswdFileBackEnd.matches([], stored), "\(tool)", sourceLocation: sourceLocation)
    }

    func output(_ tool: String, _ arguments: [String], input: String? = nil) throws -> String? {
        let result = try Peer.run(tool, arguments, input: input)
        guard result.status == 0 else {
            Issue.record("\(tool) \(arguments) failed: \(result.standardError)")
            return nil
        }
        return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: [("yescrypt", "$y$"), ("sha512crypt", "$6$"), ("sha256crypt", "$5$"), ("bcrypt", "$2b$")])
    func mkpasswd(_ method: String, _ prefix: String) throws {
        guard let tool = Peer.require("mkpasswd", package: "whois") else { return }
        guard let hash = try output(tool, ["-m", method, "--stdin"], input: Self.password + "\n") else { return }
        #expect(hash.hasPrefix(prefix))
        check(hash, tool: "mkpasswd -m \(method) (bare)")
        let scheme = ["$y$": "CRYPT", "$6$": "SHA512-CRYPT", "$5$": "SHA256-CRYPT", "$2b$": "BLF-CRYPT"][prefix]!
        check("{\(scheme)}\(hash)", tool: "mkpasswd -m \(method)")
    }

    @Test(arguments: [("-6", "SHA512-CRYPT"), ("-5", "SHA256-CRYPT")])
    func opensslPasswd(_ option: String, _ scheme: String) throws {
        guard let tool = Peer.require("openssl", package: "openssl") else { return }
        guard let hash = try output(tool, ["passwd", option, "-stdin"], input: Self.password + "\n") else { return }
        check(hash, tool: "openssl passwd \(option) (bare)")
        check("{\(scheme)}\(hash)", tool: "openssl passwd \(option)")
    }

    @Test(arguments: ["SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "PLAIN"])
    func doveadmPw(_ scheme: String) throws {
        guard let tool = Peer.require("doveadm", package: "dovecot-core") else { return }
        guard let field = try output(tool, ["pw", "-s", scheme, "-p", Self.password]) else { return }
        #expect(field.hasPrefix("{\(scheme)}"))
        check(field, tool: "doveadm pw -s \(scheme)")
    }

    @Test func pythonCrypt() throws {
        guard let python = Peer.path("python3") else { return }
        let script = """
            import warnings, sys
            warnings.simplefilter("ignore")
            try:
                import crypt
            except ImportError:
                sys.exit(3)
            for method in (crypt.METHOD_SHA512, crypt.METHOD_SHA256, crypt.METHOD_BLOWFISH):
                print(crypt.crypt(sys.argv[1], crypt.mksalt(method)))
            """
        let result = try Peer.run(python, ["-c", script, Self.password])
        // Python 3.13 removed the crypt module; the other tools cover the same hashes.
        guard result.status == 0 else { return }
        let hashes = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(hashes.count == 3)
        for hash in hashes { check(hash, tool: "python3 crypt") }
    }

    @Test func fixedHashesOfSecret() {
        let hashes = [
            PasswdFileParsingTests.sha512, PasswdFileParsingTests.yescrypt, PasswdFileParsingTests.bcrypt,
            PasswdFileParsingTests.sha256,
        ]
        for hash in hashes {
            guard case .password(let stored, _) = PasswordField.parse(hash) else {
                Issue.record("not accepted: \(hash)")
                continue
            }
            #expect(PasswdFileBackEnd.matches(Array("secret".utf8), stored), "\(hash)")
            #expect(!PasswdFileBackEnd.matches(Array("Secret".utf8), stored), "\(hash)")
        }
        guard case .password(let plain, _) = PasswordField.parse("{PLAIN}secret") else { return }
        #expect(PasswdFileBackEnd.matches(Array("secret".utf8), plain))
        #expect(!PasswdFileBackEnd.matches(Array("secre".utf8), plain))
        #expect(!PasswdFileBackEnd.matches(Array("secrets".utf8), plain))
    }

    @Test func constantTimeComparison() {
        #expect(ConstantTime.equal(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), Array("abd".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!ConstantTime.equal([UInt8](), [0]))
        #expect(ConstantTime.equal([UInt8](), []))
        // Lengths that differ by a multiple of 256 must not cancel out.
        #expect(!ConstantTime.equal([UInt8](repeating: 0, count: 256), []))
    }

    @Test func newHashes() throws {
        for method in PasswordHashMethod.allCases {
            let field = try PasswordHasher.passwordField(for: Array(Self.password.utf8), method: method)
            #expect(field.hasPrefix(method == .yescrypt ? "{CRYPT}$y$" : "{SHA512-CRYPT}$6$"))
            check(field, tool: "PasswordHasher \(method)")
            // A fresh salt every time.
            #expect(try PasswordHasher.passwordField(for: Array(Self.password.utf8), method: method) != field)
        }
        #expect(throws: PasswordHashError.self) { try PasswordHasher.passwordField(for: [], method: .sha512Crypt) }
        #expect(throws: PasswordHashError.self) { try PasswordHasher.passwordField(for: [0x61, 0, 0x62], method: .sha512Crypt) }
        // Debian 12's libxcrypt prefers yescrypt.
        #expect(PasswordHasher.defaultMethod == (Crypt.preferredPrefix == "$y$" ? .yescrypt : .sha512Crypt))
    }

    @Test func doveadmAcceptsSealpostHashes() throws {
        guard let tool = Peer.require("doveadm", package: "dovecot-core") else { return }
        for method in PasswordHashMethod.allCases {
            let field = try PasswordHasher.passwordField(for: Array(Self.password.utf8), method: method)
            let good = try Peer.run(tool, ["pw", "-t", field, "-p", Self.password])
            #expect(good.status == 0, "\(field): \(good.standardError)")
            #expect(good.standardOutput.contains("(verified)"))
            let bad = try Peer.run(tool, ["pw", "-t", field, "-p", "wrong"])
            #expect(bad.status != 0)
        }
    }
}
