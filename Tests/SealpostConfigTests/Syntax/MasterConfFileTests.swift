import Testing

@testable import SealpostConfig

@Suite struct MasterConfFileTests {
    func parse(_ text: String) -> MasterConfFile {
        MasterConfFile(path: "/etc/sealpost/master.cf", bytes: Array(text.utf8))
    }

    /// The seed's submission entry, with its commented-out -o lines inside the entry.
    let seedSubmission = """
        submission inet n       -       n       -       -       smtpd
          -o syslog_name=postfix/submission
          -o smtpd_tls_security_level=encrypt
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_tls_auth_only=yes
          -o smtpd_reject_unlisted_recipient=no
        #  -o smtpd_client_restrictions=$mua_client_restrictions
        #  -o smtpd_helo_restrictions=$mua_helo_restrictions
        #  -o smtpd_sender_restrictions=$mua_sender_restrictions
          -o smtpd_recipient_restrictions=
          -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
          -o milter_macro_daemon_name=ORIGINATING
        smtps     inet  n       -       n       -       -       smtpd
          -o syslog_name=postfix/smtps
          -o smtpd_tls_wrappermode=yes
        """

    @Test func parsesTheSeedEntries() throws {
        let file = parse(seedSubmission)
        #expect(file.diagnostics.isEmpty)
        #expect(file.services.map(\.key) == ["submission/inet", "smtps/inet"])
        let submission = try #require(file.services.first)
        #expect(submission.command == "smtpd")
        #expect(submission.privateField == "n" && submission.chrootField == "n" && submission.maxProcessesField == "-")
        #expect(submission.overrides.map(\.name) == [
            "syslog_name", "smtpd_tls_security_level", "smtpd_sasl_auth_enable", "smtpd_tls_auth_only",
            "smtpd_reject_unlisted_recipient", "smtpd_recipient_restrictions", "smtpd_relay_restrictions",
            "milter_macro_daemon_name",
        ])
        #expect(submission.overrideValue(for: "smtpd_recipient_restrictions")?.value == "")
        #expect(submission.overrideValue(for: "smtpd_relay_restrictions")?.value == "permit_sasl_authenticated,reject")
        // Each -o remembers its own physical line, past the comment lines.
        #expect(submission.overrideValue(for: "syslog_name")?.line == 2)
        #expect(submission.overrideValue(for: "smtpd_recipient_restrictions")?.line == 10)
        #expect(file.services[1].line == 13)
    }

    @Test func bracedOverridesMayContainSpaces() throws {
        let file = parse("smtps inet n - n - - smtpd -o { smtpd_banner = hello  world } -oname=x -vo other=y\n")
        #expect(file.diagnostics.isEmpty)
        let service = try #require(file.services.first)
        #expect(service.overrides.map(\.name) == ["smtpd_banner", "name", "other"])
        #expect(service.overrideValue(for: "smtpd_banner")?.value == "hello  world")
        #expect(service.arguments == ["-o", "smtpd_banner=hello  world", "-o", "name=x", "-v", "-o", "other=y"])
    }

    @Test(arguments: [
        ("smtp inet n - n - - smtpd\n  oops\nshort line\n", "bad field count"),
        ("smtp tcp n - n - - smtpd\n", "invalid type field \"tcp\""),
        ("smtp inet x - n - - smtpd\n", "invalid private field \"x\""),
        ("smtp inet n - n 1x - smtpd\n", "invalid wakeup field \"1x\""),
        ("smtp inet n - n - many smtpd\n", "invalid maxproc field \"many\""),
        ("smtp inet n - n - - smtpd -o novalue\n", "missing '=' after attribute name"),
        ("smtp inet n - n - - smtpd -o\n", "-o needs a name=value argument"),
        ("smtp inet n - n - - smtpd -o {a=b\n", "missing '}'"),
    ])
    func refusesMalformedEntries(_ text: String, _ expected: String) {
        let file = parse(text)
        #expect(file.diagnostics.contains { $0.severity == .error && $0.message.contains(expected) }, "\(file.diagnostics)")
    }

    @Test func duplicateServicesAreErrors() {
        let file = parse("smtp inet n - n - - smtpd\nsmtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\n")
        #expect(file.services.map(\.key) == ["smtp/inet", "smtp/unix"])
        #expect(file.diagnostics.map(\.description) == [
            "/etc/sealpost/master.cf:2: duplicate service smtp/inet; it is already defined at line 1"
        ])
    }

    @Test(arguments: [
        ("smtp", nil as String?, 25), ("submission", nil, 587), ("smtps", nil, 465), ("submissions", nil, 465),
        ("2525", nil, 2525), ("127.0.0.1:2525", "127.0.0.1", 2525), ("[::1]:587", "::1", 587),
        ("localhost:smtp", "localhost", 25), ("*:25", nil, 25),
    ])
    func resolvesListenAddresses(_ field: String, _ host: String?, _ port: Int) {
        #expect(ServiceEndpoint.parse(field) == .success(ServiceEndpoint(host: host, port: port)))
    }

    @Test(arguments: ["no-such-service-name", "70000", "::1:25", "[::1]", "host:"])
    func refusesBadListenAddresses(_ field: String) {
        guard case .failure = ServiceEndpoint.parse(field) else {
            Issue.record("\(field) should not parse")
            return
        }
    }
}
