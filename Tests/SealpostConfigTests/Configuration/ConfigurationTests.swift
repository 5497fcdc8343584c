import Testing

@testable import SealpostConfig
import SealpostTestSupport

/// The interfaces of the machine that recorded the Postfix reference outputs used below.
let referenceHost = HostFacts(
    hostname: "vm",
    interfaceAddresses: [
        .init(address: "127.0.0.1", prefixLength: 8, isIPv6: false),
        .init(address: "::1", prefixLength: 128, isIPv6: true),
        .init(address: "192.0.2.2", prefixLength: 24, isIPv6: false),
        .init(address: "fd00::2", prefixLength: 64, isIPv6: true),
        .init(address: "fe80::fc:ff:fe00:1", prefixLength: 64, isIPv6: true),
    ],
    processID: 4242)

func configuration(main: String, master: String = "", directory: String = "/etc/sealpost") -> Configuration {
    Configuration(
        directory: directory,
        main: MainConfFile(path: "\(directory)/main.cf", bytes: Array(main.utf8)),
        master: MasterConfFile(path: "\(directory)/master.cf", bytes: Array(master.utf8)),
        host: referenceHost)
}

@Suite struct ConfigurationTests {
    @Test func servicesSeeDefaultsThenMainCfThenTheirOverrides() throws {
        let config = configuration(
            main: "smtpd_tls_security_level = may\nsmtpd_tls_session_cache_timeout = 2h\n",
            master: """
                smtp inet n - n - - smtpd
                submission inet n - n - - smtpd
                  -o syslog_name=postfix/submission
                  -o smtpd_tls_security_level=encrypt
                smtps inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
                """)
        #expect(config.diagnostics.errors.isEmpty, "\(config.diagnostics)")
        let smtp = try #require(config.service("smtp/inet"))
        let submission = try #require(config.service("submission/inet"))
        let smtps = try #require(config.service("smtps/inet"))
        #expect(smtp.string("smtpd_tls_security_level") == "may")
        #expect(submission.string("smtpd_tls_security_level") == "encrypt")
        #expect(submission.string("syslog_name") == "postfix/submission")
        #expect(smtp.string("syslog_name") == "postfix")
        #expect(smtps.bool("smtpd_tls_wrappermode") && !smtp.bool("smtpd_tls_wrappermode"))
        #expect(smtp.seconds("smtpd_tls_session_cache_timeout") == 7200)
        #expect(config.global.seconds("smtpd_tls_session_cache_timeout") == 7200)
        #expect(smtp.endpoint == ServiceEndpoint(host: nil, port: 25))
        #expect(submission.endpoint?.port == 587)
        #expect(smtps.endpoint?.port == 465)
    }

    @Test func anInvalidTimeNamesFileLineParameterValueAndForm() {
        let config = configuration(main: "# first\nsmtpd_tls_session_cache_timeout = forever\n")
        #expect(config.diagnostics.errors.map(\.description) == [
            "/etc/sealpost/main.cf:2: smtpd_tls_session_cache_timeout = forever: invalid value; expected a time: a "
                + "number with an optional unit s (seconds), m (minutes), h (hours), d (days) or w (weeks), s when no "
                + "unit is given of at most 8640000s"
        ])
    }

    @Test func anInvalidOverridePointsAtItsMasterCfLine() {
        let config = configuration(
            main: "",
            master: "submission inet n - n - - smtpd\n  -o syslog_name=x\n  -o smtpd_tls_auth_only=maybe\n")
        #expect(config.diagnostics.errors.map(\.description) == [
            "/etc/sealpost/master.cf:3: smtpd_tls_auth_only = maybe: invalid value; expected yes or no"
        ])
    }

    @Test func errorsThroughExpansionShowTheExpandedText() {
        let config = configuration(main: "mylimit = lots\nsmtpd_recipient_limit = $mylimit\n")
        #expect(config.diagnostics.errors.map(\.message) == [
            "smtpd_recipient_limit = $mylimit (expands to \"lots\"): invalid value; expected a whole number of at least 1"
        ])
    }

    @Test func unknownNamesGetASuggestion() {
        let config = configuration(main: "smtpd_tls_cert_fil = /x.pem\n")
        let unknown = config.diagnostics.filter { $0.code == "unknown-parameter" }
        #expect(unknown.map(\.description) == [
            "/etc/sealpost/main.cf:1: unknown parameter smtpd_tls_cert_fil=/x.pem; did you mean smtpd_tls_cert_file?"
        ])
    }

    @Test func postfixParametersSealpostLacksAreNamedSo() {
        let config = configuration(main: "fast_flush_purge_time = 1d\n")
        #expect(config.diagnostics.contains {
            $0.code == "unsupported" && $0.message.contains("fast_flush_purge_time is a Postfix parameter that Sealpost does not support")
        })
    }

    @Test func referencedUserParametersAreNotUnknown() {
        let config = configuration(
            main: "mua_client_restrictions = permit_sasl_authenticated, reject\nunused_thing = 1\n",
            master: "submission inet n - n - - smtpd -o smtpd_client_restrictions=$mua_client_restrictions\n")
        let unknown = config.diagnostics.filter { $0.code == "unknown-parameter" }.map(\.message)
        #expect(unknown == ["unknown parameter unused_thing=1"])
        #expect(config.service("submission/inet")?.list("smtpd_client_restrictions") == ["permit_sasl_authenticated", "reject"])
    }

    @Test func plannedParametersSaySoWhenSet() {
        let config = configuration(main: "smtp_fallback_relay = [backup.example]:587\n")
        #expect(config.diagnostics.contains {
            $0.code == "not-implemented" && $0.severity == .warning && $0.message.hasPrefix("smtp_fallback_relay is not implemented")
        })
    }

    @Test func undefinedReferencesAreWarnings() {
        let config = configuration(main: "smtpd_tls_cert_file = /etc/letsencrypt/live/$domain.$tld/fullchain.pem\n")
        let undefined = config.diagnostics.filter { $0.code == "undefined-parameter" }.map(\.message)
        #expect(undefined.count == 2)
        #expect(undefined.allSatisfy { $0.contains("undefined parameter: domain") || $0.contains("undefined parameter: tld") })
    }

    @Test func expansionSyntaxErrorsAreErrors() {
        let config = configuration(main: "smtpd_banner = ${myhostname\n")
        #expect(config.diagnostics.errors.contains { $0.code == "expansion" && $0.message.contains("truncated macro reference") })
    }

    @Test func hostDependentDefaultsFollowPostfix() {
        let plain = configuration(main: "")
        #expect(plain.global.string("myhostname") == "vm.localdomain")
        #expect(plain.global.string("mydomain") == "localdomain")
        // Recorded with Postfix 3.7.11 on the reference host at compatibility_level 3.7 (host style).
        #expect(plain.global.list("mynetworks") == [
            "127.0.0.1/32", "192.0.2.2/32", "[::1]/128", "[fd00::2]/128", "[fe80::fc:ff:fe00:1]/128",
        ])
        let legacy = configuration(main: "compatibility_level = 0\n")
        // …and `postconf -d mynetworks` at level 0 (subnet style).
        #expect(legacy.global.scope.defaultValue("mynetworks") == "127.0.0.0/8 192.0.2.0/24 [::1]/128 [fd00::]/64 [fe80::]/64")

        let withDomain = configuration(main: "mydomain = example.org\n")
        #expect(withDomain.global.string("myhostname") == "vm.example.org")
        let withHost = configuration(main: "myhostname = mx.example.com\n")
        #expect(withHost.global.string("mydomain") == "example.com")
        let circular = configuration(main: "mydomain = $myhostname\n")
        #expect(circular.global.string("myhostname").hasPrefix("vm."))
    }

    @Test func theConfigDirectoryCountsAsSetWhenNotTheDefault() {
        let elsewhere = configuration(main: "", directory: "/srv/mail")
        #expect(elsewhere.global.scope.raw("config_directory")?.value == "/srv/mail")
        #expect(elsewhere.global.scope.raw("config_directory")?.source == .commandLine)
        let standard = configuration(main: "")
        #expect(standard.global.scope.raw("config_directory")?.source == .catalogueDefault)
    }

    @Test func postfixInternalServicesAreAcceptedQuietly() {
        let config = configuration(
            main: "",
            master: """
                pickup    unix  n       -       y       60      1       pickup
                cleanup   unix  n       -       y       -       0       cleanup
                qmgr      unix  n       -       n       300     1       qmgr
                tlsmgr    unix  -       -       y       1000?   1       tlsmgr
                maildrop  unix  -       n       n       -       -       pipe
                  flags=DRhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
                """)
        #expect(config.diagnostics.map(\.message) == [
            "service maildrop/unix: command \"pipe\" is not supported by Sealpost; the service is ignored"
        ])
    }

    @Test func commentedSeedLinesParseWhenUncommented() throws {
        let config = configuration(
            main: "mua_client_restrictions = permit_sasl_authenticated, reject\n",
            master: "submission inet n - n - - smtpd\n  -o smtpd_client_restrictions=$mua_client_restrictions\n")
        #expect(try #require(config.service("submission/inet")).list("smtpd_client_restrictions") == ["permit_sasl_authenticated", "reject"])
    }

    @Test func protocolListsAcceptEveryPostfixSyntax() throws {
        for (text, allowed) in [
            (">=TLSv1.2", ["TLSv1.2", "TLSv1.3"]),
            (">=TLSv1, <=TLSv1.2", ["TLSv1", "TLSv1.1", "TLSv1.2"]),
            ("!SSLv2, !SSLv3, !TLSv1", ["TLSv1.1", "TLSv1.2", "TLSv1.3"]),
            ("!SSLv2:!SSLv3", ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]),
            ("TLSv1", ["TLSv1"]),
            ("tlsv1.2 TLSv1.3", ["TLSv1.2", "TLSv1.3"]),
            (">=0x0303", ["TLSv1.2", "TLSv1.3"]),
        ] {
            let selection = try #require(TLSProtocolSelection.parse(text), "\(text)")
            #expect(selection.allowedVersions.map(\.name) == allowed, "\(text)")
        }
        #expect(TLSProtocolSelection.parse("TLSv9") == nil)
        #expect(TLSProtocolSelection.parse(">=bogus") == nil)
        #expect(TLSProtocolSelection.parse("TLSv1")?.usesIncludeList == true)
    }
}
