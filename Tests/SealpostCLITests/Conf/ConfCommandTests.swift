import Foundation
import SealpostConfig
import SealpostTestSupport
import Testing

/// `sealpost conf` compared with what Postfix 3.7.11's postconf printed for the same files
/// (the `postconf-*.expected` fixtures were recorded with the real postconf).
@Suite struct ConfCommandTests {
    @Test(arguments: [
        ("seed", ["-n"], "postconf-n.expected"),
        ("seed", ["-P"], "postconf-P.expected"),
        ("seed", ["-M"], "postconf-M.expected"),
        ("seed", ["-Mf"], "postconf-Mf.expected"),
        ("seed-uncommented", ["-n"], "postconf-n.expected"),
        ("seed-uncommented", ["-P"], "postconf-P.expected"),
        ("seed-uncommented", ["-Px"], "postconf-Px.expected"),
        ("seed-uncommented", ["-M"], "postconf-M.expected"),
    ])
    func printsTheSeedAsPostconfDoes(_ fixture: String, _ options: [String], _ expectedFile: String) throws {
        let directory = SealpostBinary.fixture(fixture)
        let result = try SealpostBinary.run(["conf", "-c", directory] + options)
        #expect(result.status == 0, "\(result.standardError)")
        let expected = try String(contentsOfFile: directory + "/" + expectedFile, encoding: .utf8)
        // postconf -n also shows config_directory when -c names a non-default directory; the
        // recording left that line out because its path differs.
        let output = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("config_directory = ") }.joined(separator: "\n")
        #expect(output == expected)
    }

    @Test func nonDefaultListingShowsTheConfigDirectoryLikePostconf() throws {
        let directory = SealpostBinary.fixture("seed")
        let result = try SealpostBinary.run(["conf", "-c", directory, "-n"])
        #expect(result.standardOutput.hasPrefix("config_directory = \(directory)\n"))
    }

    @Test func warnsAboutUndefinedReferencesAsPostconfDoes() throws {
        let result = try SealpostBinary.run(["conf", "-c", SealpostBinary.fixture("seed"), "-n"])
        #expect(result.standardError.contains("main.cf:4: smtpd_tls_cert_file = /etc/letsencrypt/live/$domain.$tld/fullchain.pem: undefined parameter: domain"))
    }

    @Test func defaultsEqualPostfix37ForEveryCataloguedParameter() throws {
        let directory = try TemporaryDirectory()
        try directory.write("main.cf", "")
        try directory.write("master.cf", "")
        let result = try SealpostBinary.run(["conf", "-c", directory.path, "-d"])
        #expect(result.status == 0)
        let ours = Self.parse(result.standardOutput)
        let reference = Self.parse(try String(contentsOfFile: Self.referenceFixture, encoding: .utf8))

        // Sealpost's deliberate differences (README, "Differences from Postfix") and the values
        // Postfix computes from the host or its build.
        let different = Set(ParameterCatalogue.deliberateDefaultDifferences.keys)
            .union(ParameterCatalogue.hostDependentNames)
        var compared = 0
        for (name, value) in ours where !different.contains(name) {
            guard let postfix = reference[name] else { continue }  // a Sealpost or later-Postfix parameter
            #expect(value == PostfixListWhitespace.normalized(postfix), "\(name)")
            compared += 1
        }
        #expect(compared > 300)
        #expect(ours["compatibility_level"] == "3.7")
        #expect(ours["config_directory"] == "/etc/sealpost")
    }

    @Test func showsNamedParametersAndExpandsThem() throws {
        let directory = try TemporaryDirectory()
        try directory.write("main.cf", "myhostname = mx.example.com\nsmtpd_banner = $myhostname ESMTP $mail_name\n")
        try directory.write("master.cf", "")
        let raw = try SealpostBinary.run(["conf", "-c", directory.path, "smtpd_banner", "myhostname"])
        #expect(raw.standardOutput == "smtpd_banner = $myhostname ESMTP $mail_name\nmyhostname = mx.example.com\n")
        let expanded = try SealpostBinary.run(["conf", "-c", directory.path, "-xh", "smtpd_banner"])
        #expect(expanded.standardOutput == "mx.example.com ESMTP Sealpost\n")
        let unknown = try SealpostBinary.run(["conf", "-c", directory.path, "no_such_parameter"])
        #expect(unknown.standardError.contains("no_such_parameter: unknown parameter"))
    }

    @Test func editKeepsCommentsAndUntouchedLinesByteIdentical() throws {
        let directory = try TemporaryDirectory()
        let original = "# my comment\nmyhostname=mx.example.com   \n\n  # indented comment\nsmtpd_tls_loglevel = 0\nrelayhost =\n"
        try directory.write("main.cf", original)
        try directory.write("master.cf", "")
        var result = try SealpostBinary.run(["conf", "-c", directory.path, "-e", "smtpd_tls_loglevel=1", "tls_preempt_cipherlist = yes"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try directory.read("main.cf") == "# my comment\nmyhostname=mx.example.com   \n\n  # indented comment\nsmtpd_tls_loglevel = 1\nrelayhost =\ntls_preempt_cipherlist = yes\n")
        result = try SealpostBinary.run(["conf", "-c", directory.path, "-#", "relayhost"])
        #expect(try directory.read("main.cf").contains("\n#relayhost =\n"))
        // name=value without -e edits too, as with postconf.
        result = try SealpostBinary.run(["conf", "-c", directory.path, "relayhost=[smtp.example.net]:587"])
        #expect(try directory.read("main.cf").hasSuffix("relayhost = [smtp.example.net]:587\n"))
        result = try SealpostBinary.run(["conf", "-c", directory.path, "-X", "relayhost"])
        #expect(try !directory.read("main.cf").contains("\nrelayhost ="))
        result = try SealpostBinary.run(["conf", "-c", directory.path, "-e", "bad"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("missing '=' after attribute name"))
    }

    @Test func aSyntaxErrorInMainCfFailsWithFileAndLine() throws {
        let directory = try TemporaryDirectory()
        try directory.write("main.cf", "myhostname = a\nthis line has no equals sign\n")
        try directory.write("master.cf", "")
        let result = try SealpostBinary.run(["conf", "-c", directory.path])
        #expect(result.status == 1)
        #expect(result.standardError.contains("\(directory.path)/main.cf:2: missing '=' after attribute name"))
    }

    @Test func usesSealpostConfigDirFromTheEnvironment() throws {
        let directory = try TemporaryDirectory()
        try directory.write("main.cf", "myhostname = from-env.example\n")
        try directory.write("master.cf", "")
        let result = try SealpostBinary.run(["conf", "-h", "myhostname"], environment: ["SEALPOST_CONFIG_DIR": directory.path])
        #expect(result.standardOutput == "from-env.example\n")
    }

    static let referenceFixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SealpostConfigTests/Fixtures/postfix-3.7.11-defaults.txt").path

    /// `name = value` lines into a dictionary.
    static func parse(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let separator = line.range(of: " =") else { continue }
            let name = String(line[..<separator.lowerBound])
            var value = String(line[separator.upperBound...])
            if value.hasPrefix(" ") { value.removeFirst() }
            result[name] = value
        }
        return result
    }
}

/// postconf prints values with runs of whitespace collapsed; so does `conf`.
enum PostfixListWhitespace {
    static func normalized(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
