import Foundation
import SealpostTestSupport
import Synchronization
import Testing

/// `sealpost passwd` through the built binary.
@Suite struct PasswdCommandTests {
    static let password = "Zebra-Quartz-991 ok"

    let directory: TemporaryDirectory
    var path: String { directory.path + "/passwd" }

    init() throws {
        directory = try TemporaryDirectory()
    }

    func passwd(_ arguments: [String], input: String? = "\(Self.password)\n") throws -> SealpostBinary.Result {
        try SealpostBinary.run(["passwd"] + arguments, input: input)
    }

    func contents() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func mode(_ file: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// The password field of `user`'s line.
    func field(of user: String) throws -> String? {
        try contents().split(whereSeparator: \.isNewline).first { $0.hasPrefix(user + ":") }?.split(separator: ":", omittingEmptySubsequences: false)
            .dropFirst().first.map(String.init)
    }

    @Test func addCreatesTheFileAndListShowsNamesOnly() throws {
        let added = try passwd(["-f", path, "add", "bob@example.com"])
        #expect(added.status == 0, "\(added.standardError)")
        #expect(added.standardOutput == "added user bob@example.com to \(path)\n")
        #expect(try mode(path) == 0o640)
        let text = try contents()
        #expect(text.hasPrefix("bob@example.com:{"))
        #expect(text.hasSuffix("\n"))
        #expect(text.split(separator: "\n").count == 1)
        #expect(!text.contains(Self.password))

        let listed = try passwd(["-f", path, "list"], input: nil)
        #expect(listed.status == 0)
        #expect(listed.standardOutput == "bob@example.com\n")
        #expect(!listed.standardOutput.contains("$"))
        #expect(listed.standardError.isEmpty)
    }

    @Test func otherLinesStayByteIdentical() throws {
        let original = "# Sealpost users\r\n\nalice:{PLAIN}old:1000:1000::/home/alice::userdb_x=1\r\n# keep me\ncarol:{SHA512-CRYPT}$6$x$y"
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)

        let changed = try passwd(["-f", path, "add", "ALICE"])
        #expect(changed.status == 0, "\(changed.standardError)")
        #expect(changed.standardOutput == "changed the password of ALICE in \(path) (line 3)\n")
        // Split bytes, not Characters: Swift's "\r\n" is one Character.
        let lines = try Data(contentsOf: URL(fileURLWithPath: path)).split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        try #require(lines.count == 5)
        #expect(lines[0] == "# Sealpost users\r")
        #expect(lines[1] == "")
        // Only the password field changed; the other fields and the CRLF stay.
        #expect(lines[2].hasPrefix("alice:{"))
        #expect(lines[2].hasSuffix(":1000:1000::/home/alice::userdb_x=1\r"))
        #expect(!lines[2].contains("{PLAIN}old"))
        #expect(lines[3] == "# keep me")
        #expect(lines[4] == "carol:{SHA512-CRYPT}$6$x$y")
        #expect(try mode(path) == 0o600)
        // The malformed line of carol is reported, with file and line.
        #expect(changed.standardError.contains("sealpost: error: \(path):5: user carol: a malformed SHA512-CRYPT hash"))

        // A new user goes at the end; the missing final newline is added first.
        let added = try passwd(["-f", path, "add", "dave"])
        #expect(added.status == 0)
        let after = try contents()
        #expect(after.hasPrefix(original.replacingOccurrences(of: "alice:{PLAIN}old", with: "alice:\(try field(of: "alice") ?? "")")))
        #expect(after.contains("carol:{SHA512-CRYPT}$6$x$y\ndave:{"))
    }

    @Test func deleteRemovesTheUsersLines() throws {
        let original = "# users\nalice:{PLAIN}a\nbob:{PLAIN}b\n# end\n"
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o640)
        let deleted = try passwd(["-f", path, "delete", "alice"], input: nil)
        #expect(deleted.status == 0)
        #expect(deleted.standardOutput == "deleted user alice from \(path) (line 2)\n")
        #expect(try contents() == "# users\nbob:{PLAIN}b\n# end\n")
        // bob's clear-text password is pointed out.
        #expect(deleted.standardError.contains("warning: \(path):2: user bob: {PLAIN} password stored in clear text"))

        let missing = try passwd(["-f", path, "delete", "alice"], input: nil)
        #expect(missing.status == 1)
        #expect(missing.standardError == "sealpost: fatal: \(path): no user alice\n")
        #expect(try contents() == "# users\nbob:{PLAIN}b\n# end\n")
    }

    @Test func concurrentEditsLoseNothing() throws {
        try "# shared\n".write(toFile: path, atomically: false, encoding: .utf8)
        let users = (1...8).map { "user\($0)@example.com" }
        let statuses = Mutex<[Int32]>([])
        let file = path
        DispatchQueue.concurrentPerform(iterations: users.count) { index in
            let arguments = ["passwd", "-f", file, "-s", "sha512-crypt", "add", users[index]]
            let status = (try? SealpostBinary.run(arguments, input: "\(Self.password)\n").status) ?? -1
            statuses.withLock { $0.append(status) }
        }
        #expect(statuses.withLock { $0 } == Array(repeating: 0, count: users.count))
        let listed = try passwd(["-f", path, "list"], input: nil).standardOutput.split(separator: "\n").map(String.init)
        #expect(Set(listed) == Set(users))
        #expect(try contents().hasPrefix("# shared\n"))
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["passwd"])
    }

    @Test func hashesAreForDovecotToo() throws {
        for (scheme, prefix) in [("yescrypt", "{CRYPT}$y$"), ("sha512-crypt", "{SHA512-CRYPT}$6$")] {
            let result = try passwd(["-f", path, "-s", scheme, "add", "user-\(scheme)"])
            #expect(result.status == 0, "\(result.standardError)")
            let hash = try #require(try field(of: "user-\(scheme)"))
            #expect(hash.hasPrefix(prefix))
            guard let doveadm = ["/usr/bin/doveadm", "/usr/sbin/doveadm"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                if ProcessInfo.processInfo.environment["CI"] != nil {
                    Issue.record("doveadm is not installed but CI is set; install Debian's dovecot-core package")
                }
                continue
            }
            #expect(try run(doveadm, ["pw", "-t", hash, "-p", Self.password]).status == 0, "doveadm refuses \(hash)")
            #expect(try run(doveadm, ["pw", "-t", hash, "-p", "wrong"]).status != 0)
        }
    }

    @Test func passwdFileFromTheConfiguration() throws {
        try "smtpd_sasl_type = passwd-file\nsmtpd_sasl_path = sasl-users\n".write(
            toFile: directory.path + "/main.cf", atomically: false, encoding: .utf8)
        let added = try passwd(["-c", directory.path, "add", "erin"])
        #expect(added.status == 0, "\(added.standardError)")
        #expect(added.standardOutput == "added user erin to \(directory.path)/sasl-users\n")
        #expect(FileManager.default.fileExists(atPath: directory.path + "/sasl-users"))
        // The options may also follow the action.
        #expect(try passwd(["list", "-c", directory.path], input: nil).standardOutput == "erin\n")

        try "smtpd_sasl_type = dovecot\n".write(toFile: directory.path + "/main.cf", atomically: false, encoding: .utf8)
        let none = try passwd(["-c", directory.path, "list"], input: nil)
        #expect(none.status == 1)
        #expect(none.standardError.hasPrefix("sealpost: fatal: \(directory.path)/main.cf: no service has smtpd_sasl_type = passwd-file"))

        try "smtpd_sasl_type = passwd-file\nsmtpd_sasl_path = /srv/a\n".write(
            toFile: directory.path + "/main.cf", atomically: false, encoding: .utf8)
        try "submission inet n - n - - smtpd\n  -o smtpd_sasl_path=/srv/b\n".write(
            toFile: directory.path + "/master.cf", atomically: false, encoding: .utf8)
        let several = try passwd(["-c", directory.path, "list"], input: nil)
        #expect(several.status == 1)
        #expect(several.standardError == "sealpost: fatal: several passwd-files are configured (/srv/a, /srv/b); choose one with -f\n")
    }

    @Test func errorsNameTheFile() throws {
        let nowhere = directory.path + "/no/such/dir/passwd"
        let result = try passwd(["-f", nowhere, "add", "bob"])
        #expect(result.status == 1)
        #expect(result.standardError == "sealpost: fatal: \(nowhere): cannot create: No such file or directory\n")
        let list = try passwd(["-f", nowhere, "list"], input: nil)
        #expect(list.standardError == "sealpost: fatal: \(nowhere): cannot open: No such file or directory\n")
    }

    @Test func badInput() throws {
        for user in ["", "a:b", "bad user", "#comment"] {
            let result = try passwd(["-f", path, "add", user])
            #expect(result.status != 0, "\(user)")
            #expect(result.standardError.contains("Error:"), "\(user): \(result.standardError)")
        }
        #expect(try passwd(["-f", path, "add", "bob"], input: "").standardError == "sealpost: fatal: no password on standard input\n")
        #expect(try passwd(["-f", path, "add", "bob"], input: "\n").standardError == "sealpost: fatal: the password is empty\n")
        #expect(try passwd(["-f", path, "list", "bob"], input: nil).status != 0)
        #expect(try passwd(["-f", path, "delete"], input: nil).status != 0)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func looseModeIsAWarning() throws {
        try "alice:{PLAIN}a\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o644)
        let result = try passwd(["-f", path, "add", "bob"])
        #expect(result.status == 0)
        #expect(try mode(path) == 0o644)
        #expect(result.standardError.contains("sealpost: warning: \(path): mode 644 lets every user read the password hashes; chmod o-rwx \(path)"))
    }

    @Test func terminalPromptsTwiceWithoutEcho() throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return
        }
        // A pseudo-terminal, answered like a person: wait for each prompt, then type.
        let driver = """
            import os, pty, sys
            binary, path, user, first, second = sys.argv[1:6]
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(binary, [binary, "passwd", "-f", path, "add", user])
            output = b""
            def until(token):
                global output
                while token not in output:
                    try:
                        chunk = os.read(fd, 1024)
                    except OSError:
                        return
                    if not chunk:
                        return
                    output += chunk
            until(b"New password: ")
            os.write(fd, first.encode() + b"\\n")
            until(b"Retype new password: ")
            os.write(fd, second.encode() + b"\\n")
            until(b"\\x00never")
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(output.decode(errors="replace"))
            sys.exit(os.WEXITSTATUS(status))
            """
        let same = try run(python, ["-c", driver, SealpostBinary.path, path, "tty-user", Self.password, Self.password])
        #expect(same.status == 0, "\(same.standardOutput)")
        #expect(same.standardOutput.contains("New password: "))
        #expect(same.standardOutput.contains("Retype new password: "))
        #expect(same.standardOutput.contains("added user tty-user to \(path)"))
        #expect(!same.standardOutput.contains(Self.password), "the password was echoed")

        let differ = try run(python, ["-c", driver, SealpostBinary.path, path, "other", Self.password, Self.password + "x"])
        #expect(differ.status == 1)
        #expect(differ.standardOutput.contains("sealpost: fatal: the passwords differ"))
        #expect(try !contents().contains("other:"))
    }

    func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, standardOutput: String) {
        let (status, output) = try PeerProgram.run(executable, arguments)
        return (status, output)
    }
}
