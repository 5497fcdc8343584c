import SealpostConfig
import SealpostRouting
import SealpostTestSupport
import Testing

@testable import SealpostPolicy

/// The relay decisions of the seed's services and of the default smtp service: never an open
/// relay, whatever the address trick.
@Suite struct RelayPolicyTests {
    /// The seed's master.cf (the submission and smtps services of the TLS guide).
    static let seedMaster = """
        smtp      inet  n       -       n       -       -       smtpd
        submission inet n       -       n       -       -       smtpd
          -o syslog_name=postfix/submission
          -o smtpd_tls_security_level=encrypt
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_tls_auth_only=yes
          -o smtpd_reject_unlisted_recipient=no
        #  -o smtpd_client_restrictions=$mua_client_restrictions
          -o smtpd_recipient_restrictions=
          -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
          -o milter_macro_daemon_name=ORIGINATING
        smtps     inet  n       -       n       -       -       smtpd
          -o syslog_name=postfix/smtps
          -o smtpd_tls_wrappermode=yes
          -o smtpd_sasl_auth_enable=yes
          -o smtpd_reject_unlisted_recipient=no
          -o smtpd_recipient_restrictions=
          -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
          -o milter_macro_daemon_name=ORIGINATING
        """

    static func seedPolicies(_ extra: String = "") throws -> (smtp: AccessPolicy, submission: AccessPolicy, smtps: AccessPolicy, environment: PolicyTestEnvironment) {
        let environment = try PolicyTestEnvironment()
        let configuration = try environment.configuration(extra, master: seedMaster)
        let dns = StaticDNSResolver()
        func policy(_ key: String) throws -> AccessPolicy {
            try AccessPolicy(configuration: configuration, service: configuration.service(key), dns: dns)
        }
        return (try policy("smtp/inet"), try policy("submission/inet"), try policy("smtps/inet"), environment)
    }

    @Test func submissionRelaysOnlyForAuthenticatedClients() async throws {
        let policies = try Self.seedPolicies()
        for policy in [policies.submission, policies.smtps] {
            var anonymous = PolicyDriver(policy)
            await anonymous.ehlo("client.example")
            await anonymous.mail("sender@example.org")
            #expect(await anonymous.rcpt("friend@remote.test") == "554 5.7.1 <friend@remote.test>: Recipient address rejected: Access denied")
            #expect(await anonymous.rcpt("alice@example.com") == "554 5.7.1 <alice@example.com>: Recipient address rejected: Access denied")
            #expect(anonymous.log.last?.hasPrefix("NOQUEUE: reject: RCPT from client.outside.test[192.0.2.9]: 554 5.7.1 <alice@example.com>") == true)

            var user = PolicyDriver(policy)
            user.session.sasl = SASLLogin(method: "PLAIN", username: "alice")
            await user.ehlo("client.example")
            await user.mail("alice@example.com")
            #expect(await user.rcpt("friend@remote.test") == "250 2.1.5 Ok")
            // smtpd_reject_unlisted_recipient = no: unknown local users are the local delivery's problem.
            #expect(await user.rcpt("nobody@example.com") == "250 2.1.5 Ok")
            #expect(await user.rcpt("user%elsewhere.test@example.com") == "250 2.1.5 Ok")
        }
    }

    @Test func theDefaultSmtpServiceAcceptsOurMailAndRefusesToRelay() async throws {
        let policies = try Self.seedPolicies()
        var outside = PolicyDriver(policies.smtp)
        await outside.ehlo("client.example")
        await outside.mail("sender@example.org")
        // Postfix 3.7's smtpd_relay_restrictions default ends in defer_unauth_destination:
        // relay_domains_reject_code - 100 and 4.7.1.
        #expect(await outside.rcpt("friend@remote.test") == "454 4.7.1 <friend@remote.test>: Relay access denied")
        #expect(await outside.rcpt("alice@example.com") == "250 2.1.5 Ok")
        #expect(await outside.rcpt("box@virtual.example") == "250 2.1.5 Ok")
        #expect(
            await outside.rcpt("nobody@example.com")
                == "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table")
        #expect(outside.log.first == "NOQUEUE: reject: RCPT from client.outside.test[192.0.2.9]: 454 4.7.1 <friend@remote.test>: Relay access denied; from=<sender@example.org> to=<friend@remote.test> proto=ESMTP helo=<client.example>")

        var inside = PolicyDriver(policies.smtp, client: TestClients.inside)
        await inside.ehlo("inside.example")
        await inside.mail("someone@example.com")
        #expect(await inside.rcpt("friend@remote.test") == "250 2.1.5 Ok")
    }

    @Test func theMuaRestrictionsOfTheSeedWorkWhenUncommented() async throws {
        let environment = try PolicyTestEnvironment()
        let master = Self.seedMaster.replacingOccurrences(
            of: "#  -o smtpd_client_restrictions=$mua_client_restrictions", with: "  -o smtpd_client_restrictions=$mua_client_restrictions")
        let configuration = try environment.configuration(
            "mua_client_restrictions = permit_sasl_authenticated, reject", master: master)
        let policy = try AccessPolicy(configuration: configuration, service: configuration.service("submission/inet"), dns: StaticDNSResolver())
        var anonymous = PolicyDriver(policy)
        await anonymous.mail("x@example.org")
        #expect(await anonymous.rcpt("alice@example.com") == "554 5.7.1 <client.outside.test[192.0.2.9]>: Client host rejected: Access denied")
        var user = PolicyDriver(policy)
        user.session.sasl = SASLLogin(method: "PLAIN", username: "alice")
        await user.mail("alice@example.com")
        #expect(await user.rcpt("friend@remote.test") == "250 2.1.5 Ok")
    }

    /// Addresses that name remote.test somewhere; from an outside, unauthenticated client none
    /// may be accepted, under either relay check.
    static let tricks = [
        "user%remote.test@example.com", "remote.test!user@example.com", "user@remote.test@example.com",
        "user%remote.test@[127.0.0.1]", "user@remote.test@[127.0.0.1]", "user%remote.test@localhost",
        "user@remote.test@localhost", "remote.test!user@localhost", "user%remote.test%example.com@example.com",
        "user%remote.test.@example.com", "remote.test!user@mx.example.com.", "user%remote.test", "remote.test!user",
        "user@remote.test.", "user@REMOTE.TEST", "USER%REMOTE.TEST@EXAMPLE.COM", "@example.com:user@remote.test",
        "@example.com,@mx.example.com:user@remote.test", "user@[192.0.2.77]", "user@[IPv6:::1]", "user@[127.0.0.2]",
        "a[b]%remote.test@mx.example.com", "user@example.com@remote.test", "remote.test!user%other.test@example.com",
        "user%remote.test@", "[192.0.2.77]!user@example.com", "user%[192.0.2.77]@example.com", "user@[192.0.2.77]@example.com",
        "mx.example.com!remote.test!user", "user%remote.test%mx.example.com", "user@remote.test%example.com",
        "postmaster%remote.test@example.com", "user%remote.test@alias.example", "user%remote.test@virtual.example",
        "user%remote.test@relayed.example", "user@remote.test@virtual.example", "remote.test!user@relayed.example",
    ]

    @Test(arguments: ["", "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
                      "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_auth_destination, reject"])
    func theRelayTricksNeverRelay(_ settings: String) async throws {
        let policy = try PolicyTestEnvironment().policy(settings)
        for address in Self.tricks {
            var driver = PolicyDriver(policy)
            await driver.ehlo("client.example")
            await driver.mail("sender@example.org")
            let reply = await driver.rcpt(address)
            #expect(!reply.hasPrefix("2"), "\(address) was accepted: \(reply)")
        }
    }

    // A random mix of routing operators, quotes, local and remote domains and address literals:
    // whatever the combination, an address naming remote.test is never accepted from outside.
    @Test func noMixOfRoutingOperatorsRelays() async throws {
        let policy = try PolicyTestEnvironment().policy()
        var random = SeededGenerator(seed: 0x5EA1_F05E)
        let parts = [
            "user", "remote.test", "example.com", "localhost", "[127.0.0.1]", "[192.0.2.2]", "mx.example.com", "virtual.example",
            "relayed.example", "alias.example", "EXAMPLE.COM", "Remote.Test", ".",
        ]
        let operators = ["@", "%", "!", "@", ":", "."]
        for _ in 0..<1500 {
            var address = ""
            for index in 0..<Int.random(in: 3...7, using: &random) {
                if index > 0 { address += operators.randomElement(using: &random)! }
                address += parts.randomElement(using: &random)!
            }
            guard address.lowercased().contains("remote.test") else { continue }
            var driver = PolicyDriver(policy)
            await driver.mail("sender@example.org")
            let reply = await driver.rcpt(address)
            #expect(!reply.hasPrefix("2"), "\(address) was accepted: \(reply)")
        }
    }

    @Test func routedAddressesPassOnlyWithAllowUntrustedRouting() async throws {
        // check_mail_access: an OK for a recipient whose resolved local part still holds routing
        // operators (user%remote@relay-domain) does not authorize it; permit_auth_destination
        // refuses it too.
        let settings = "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = check_recipient_access inline:{ relayed.example=OK }, reject_unauth_destination"
        var driver = PolicyDriver(try PolicyTestEnvironment().policy(settings))
        await driver.mail("sender@example.org")
        #expect(await driver.rcpt("known@relayed.example") == "250 2.1.5 Ok")
        #expect(await driver.rcpt("user%remote.test@relayed.example") == "554 5.7.1 <user%remote.test@relayed.example>: Relay access denied")
        #expect(await driver.rcpt("remote.test!user@relayed.example") == "554 5.7.1 <remote.test!user@relayed.example>: Relay access denied")

        var trusting = PolicyDriver(try PolicyTestEnvironment().policy("allow_untrusted_routing = yes\n" + settings))
        await trusting.mail("sender@example.org")
        #expect(await trusting.rcpt("user%remote.test@relayed.example").hasPrefix("550 5.1.1"))
    }

    @Test func permitInetInterfacesMatchesOurOwnAddresses() async throws {
        let policy = try PolicyTestEnvironment().policy("inet_interfaces = all\nsmtpd_relay_restrictions = permit_inet_interfaces, reject")
        for (address, accepted) in [("127.0.0.1", true), ("192.0.2.2", true), ("192.0.2.9", false)] {
            var driver = PolicyDriver(policy, client: ClientIdentity(address: address, name: "host.example", nameStatus: .ok))
            await driver.mail("sender@example.org")
            #expect(await driver.rcpt("friend@remote.test").hasPrefix("250") == accepted, "\(address)")
        }
    }

    @Test func checkRelayDomainsIsTheObsoleteRelayCheck() async throws {
        let policy = try PolicyTestEnvironment().policy("smtpd_relay_restrictions = check_relay_domains")
        #expect(policy.startupWarnings.map(\.message) == [
            "support for restriction \"check_relay_domains\" will be removed from Sealpost; use \"reject_unauth_destination\" instead"
        ])
        var outside = PolicyDriver(policy)
        await outside.mail("s@example.org")
        #expect(await outside.rcpt("r@remote.test") == "554 5.7.1 <r@remote.test>: Recipient address rejected: Relay access denied")
        #expect(await outside.rcpt("alice@example.com") == "250 2.1.5 Ok")
        var relayClient = PolicyDriver(policy, client: ClientIdentity(address: "192.0.2.50", name: "mx.relayed.example", nameStatus: .ok))
        await relayClient.mail("s@example.org")
        #expect(await relayClient.rcpt("r@remote.test") == "250 2.1.5 Ok")
    }
}
