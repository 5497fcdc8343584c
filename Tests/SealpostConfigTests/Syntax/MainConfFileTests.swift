import Testing

@testable import SealpostConfig

@Suite struct MainConfFileTests {
    func parse(_ text: String) -> MainConfFile {
        MainConfFile(path: "/etc/sealpost/main.cf", bytes: Array(text.utf8))
    }

    @Test func readsEntriesWithLineNumbers() {
        let file = parse(
            """
            # comment
            myhostname = mx.example.com
            smtpd_tls_exclude_ciphers = aNULL, MD5,
                3DES
            empty =
            spaced=value   \t
            """)
        #expect(file.diagnostics.isEmpty)
        #expect(file.entries.map(\.name) == ["myhostname", "smtpd_tls_exclude_ciphers", "empty", "spaced"])
        #expect(file.effective["smtpd_tls_exclude_ciphers"]?.value == "aNULL, MD5,    3DES")
        #expect(file.effective["empty"]?.value == "")
        #expect(file.effective["spaced"]?.value == "value")
        #expect(file.effective["empty"]?.line == 5)
    }

    @Test func lastEntryWinsWithPostconfsWarning() {
        let file = parse("myhostname = one\nmyhostname = two\nmyhostname = two\n")
        #expect(file.effective["myhostname"]?.value == "two")
        #expect(file.effective["myhostname"]?.line == 3)
        #expect(file.diagnostics.map(\.description) == [
            "/etc/sealpost/main.cf:2: overriding earlier entry: myhostname=one"
        ])
    }

    @Test func syntaxErrorsNameFileLineAndExpectedForm() {
        let file = parse("good = 1\njunk without equals\n= no name\n")
        #expect(file.entries.map(\.name) == ["good"])
        #expect(file.diagnostics.map(\.description) == [
            "/etc/sealpost/main.cf:2: missing '=' after attribute name: \"junk without equals\"; expected \"name = value\"",
            "/etc/sealpost/main.cf:3: missing attribute name: \"= no name\"; expected \"name = value\"",
        ])
        #expect(file.diagnostics.allSatisfy { $0.severity == .error })
    }

    @Test func valueMayContainEqualsSigns() {
        #expect(parse("a = b = c").effective["a"]?.value == "b = c")
    }
}
