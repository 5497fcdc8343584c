import SealpostConfig
import SealpostTLS
import Testing

@testable import SealpostDelivery

/// main.cf and master.cf values as the client reads them: levels (and the legacy switches),
/// timeouts, LMTP's own names, TLS policy tables, next hops, start-up notes.
@Suite("SMTP client settings")
struct SMTPClientSettingsTests {
    @Test("Postfix's defaults, and the legacy smtp_use_tls / smtp_enforce_tls levels")
    func defaultsAndLegacyLevels() throws {
        let defaults = try SMTPClientSettings(clientConfiguration(""))
        #expect(defaults.tls.defaultLevel == TLSClientSecurityLevel.none)
        #expect(defaults.heloName == "client.example.org")
        #expect(defaults.timeouts == SMTPClientSettings.Timeouts())
        #expect(defaults.mxAddressLimit == 5 && defaults.mxSessionLimit == 2)
        #expect(defaults.lineLengthLimit == 998)
        #expect(defaults.defaultPort == 25)
        #expect(defaults.skip5xxGreeting && defaults.connectionCacheOnDemand)
        #expect(defaults.connectionCacheTimeLimit == 2 && defaults.connectionReuseTimeLimit == 300)
        #expect(defaults.addressFamilies == [.ipv4, .ipv6])
        #expect(defaults.startupNotes.isEmpty, "defaults nobody chose get no start-up notes: \(defaults.startupNotes)")
        let pix = try SMTPClientSettings(clientConfiguration("smtp_pix_workarounds = disable_esmtp\n"))
        #expect(pix.startupNotes.contains { $0.hasPrefix("smtp_pix_workarounds:") })

        #expect(try SMTPClientSettings(clientConfiguration("smtp_use_tls = yes\n")).tls.defaultLevel == .may)
        #expect(try SMTPClientSettings(clientConfiguration("smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no\n")).tls.defaultLevel == .encrypt)
        #expect(try SMTPClientSettings(clientConfiguration("smtp_enforce_tls = yes\n")).tls.defaultLevel == .verify)
        #expect(try SMTPClientSettings(clientConfiguration("smtp_use_tls = yes\nsmtp_tls_security_level = secure\n")).tls.defaultLevel == .secure)
    }

    @Test("timeouts, helo name, limits and address preference from main.cf and a master.cf -o override")
    func values() throws {
        let main = """
            smtp_helo_name = out.example.org
            smtp_connect_timeout = 5s
            smtp_helo_timeout = 1m
            smtp_data_done_timeout = 20m
            smtp_mx_address_limit = 0
            smtp_address_preference = ipv6
            smtp_bind_address = 127.0.0.1
            smtp_line_length_limit = 0

            """
        let settings = try SMTPClientSettings(clientConfiguration(
            main, master: "relay unix - - n - - smtp\n  -o smtp_helo_name=relay.example.org\n", service: "relay/unix"))
        #expect(settings.heloName == "relay.example.org")
        #expect(settings.timeouts.connect == 5 && settings.timeouts.helo == 60 && settings.timeouts.dataDone == 1200)
        #expect(settings.mxAddressLimit == 0)
        #expect(settings.addressFamilies == [.ipv6, .ipv4])
        #expect(settings.bindAddress == "127.0.0.1")
        #expect(settings.lineLengthLimit == 0)
    }

    @Test("LMTP reads lmtp_* names: LHLO name and timeout, port 24, its own TLS level")
    func lmtpNames() throws {
        let settings = try SMTPClientSettings(
            clientConfiguration("lmtp_lhlo_name = lmtp.example.org\nlmtp_lhlo_timeout = 7s\nlmtp_tls_security_level = may\n"), prefix: "lmtp")
        #expect(settings.protocolKind == .lmtp)
        #expect(settings.heloName == "lmtp.example.org")
        #expect(settings.timeouts.helo == 7)
        #expect(settings.defaultPort == 24)
        #expect(settings.tls.defaultLevel == .may)
        // The SMTP client's settings never leak into the LMTP client.
        let separate = try SMTPClientSettings(
            clientConfiguration("smtp_tls_wrappermode = yes\nsmtp_helo_timeout = 3s\nsmtp_tls_policy_maps = inline:{ x=encrypt }\n"), prefix: "lmtp")
        #expect(!separate.tlsWrapperMode)
        #expect(separate.timeouts.helo == 300)
        #expect(separate.tlsPolicy == nil)
    }

    @Test("smtp_tls_policy_maps: exact next hop, then parent domains; levels and attributes")
    func policyTable() throws {
        let settings = try SMTPClientSettings(clientConfiguration("""
            smtp_tls_policy_maps = inline:{ {example.com = secure match=nexthop:dot-nexthop}, {.example.net = encrypt protocols=>=TLSv1.2}, {[mx.example.org]:587 = fingerprint match=AB:CD|EF:01 servername=hostname} }

            """))
        let table = try #require(settings.tlsPolicy)
        let secure = try #require(try table.policy(for: "example.com"))
        #expect(secure.level == .secure)
        #expect(secure.matchNames == ["nexthop", "dot-nexthop"])
        let parent = try #require(try table.policy(for: "mail.sub.example.net"))
        #expect(parent.level == .encrypt)
        #expect(parent.protocols?.minimumWireVersion == 0x0303)
        #expect(parent.unappliedAttributes.isEmpty)
        let fingerprint = try #require(try table.policy(for: "[mx.example.org]:587"))
        #expect(fingerprint.fingerprints == [[0xAB, 0xCD], [0xEF, 0x01]])
        #expect(fingerprint.serverName == .hostname)
        #expect(try table.policy(for: "other.example") == nil)
        #expect(throws: SMTPClientConfigurationError.self) {
            try SMTPTLSPolicy(parsing: "paranoid", key: "x", parameter: "smtp_tls_policy_maps")
        }
        #expect(throws: SMTPClientConfigurationError.self) {
            try SMTPTLSPolicy(parsing: "encrypt match=foo", key: "x", parameter: "smtp_tls_policy_maps")
        }
    }

    @Test("next hops: domain, domain:port, [host], [host]:port, unix: and inet: for LMTP")
    func nexthops() throws {
        #expect(try MailNexthop(parsing: "example.com", protocolKind: .smtp, defaultPort: 25) == .mailDomain("example.com", port: 25))
        #expect(try MailNexthop(parsing: "example.com:2525", protocolKind: .smtp, defaultPort: 25) == .mailDomain("example.com", port: 2525))
        #expect(try MailNexthop(parsing: "[mx.example.com]", protocolKind: .smtp, defaultPort: 25) == .host("mx.example.com", port: 25))
        #expect(try MailNexthop(parsing: "[192.0.2.1]:submission", protocolKind: .smtp, defaultPort: 25) == .host("192.0.2.1", port: 587))
        #expect(try MailNexthop(parsing: "[ipv6:2001:db8::1]:25", protocolKind: .smtp, defaultPort: 25) == .host("2001:db8::1", port: 25))
        #expect(try MailNexthop(parsing: "unix:/run/dovecot/lmtp", protocolKind: .lmtp, defaultPort: 24) == .unixSocket("/run/dovecot/lmtp"))
        #expect(try MailNexthop(parsing: "inet:mail.example.com:2424", protocolKind: .lmtp, defaultPort: 24) == .host("mail.example.com", port: 2424))
        #expect(try MailNexthop(parsing: "mail.example.com", protocolKind: .lmtp, defaultPort: 24) == .host("mail.example.com", port: 24))
        #expect(throws: MailNexthopError.self) { try MailNexthop(parsing: "[mx.example.com", protocolKind: .smtp, defaultPort: 25) }
        #expect(throws: MailNexthopError.self) { try MailNexthop(parsing: "example.com:99999", protocolKind: .smtp, defaultPort: 25) }
    }

    @Test("SASL credentials: username:password, never printed")
    func credentials() {
        let credentials = SASLCredentials(tableValue: "user@example.org:pa:ss")
        #expect(credentials == SASLCredentials(username: "user@example.org", password: "pa:ss"))
        #expect(credentials?.description == "user@example.org:********")
        #expect(SASLCredentials(tableValue: "nopassword") == nil)
    }
}

/// Postfix's `smtp_truncate_self()`: MX hosts from our own preference on are dropped.
@Suite("SMTP client loop detection")
struct SMTPLoopDetectionTests {
    static func target(_ host: String, _ address: String, _ preference: Int) -> SMTPTarget {
        SMTPTarget(hostname: host, endpoint: .inet(address: address, port: 25), isBestMX: false, preference: preference)
    }

    @Test("we are a backup MX: only the better hosts are tried; we are the best MX: the mail loops")
    func truncation() throws {
        let own: Set<String> = ["192.0.2.10"]
        let list = [Self.target("a", "192.0.2.1", 10), Self.target("me", "192.0.2.10", 20), Self.target("c", "192.0.2.3", 30)]
        let kept = try SMTPDeliveryAgent.truncateSelf(list, ownAddresses: own, bestPreference: 10, name: "example.com").get()
        #expect(kept.map(\.hostname) == ["a"])
        let untouched = try SMTPDeliveryAgent.truncateSelf(list, ownAddresses: ["198.51.100.1"], bestPreference: 10, name: "example.com").get()
        #expect(untouched.count == 3)
        let best = [Self.target("me", "192.0.2.10", 10), Self.target("c", "192.0.2.3", 20)]
        #expect(throws: SMTPSessionFailure(dsn: "5.4.6", text: "mail for example.com loops back to myself")) {
            try SMTPDeliveryAgent.truncateSelf(best, ownAddresses: own, bestPreference: 10, name: "example.com").get()
        }
        // The best MX had no address: we cannot tell whether we are the primary.
        #expect(throws: SMTPSessionFailure(dsn: "4.4.4", text: "unable to find primary relay for example.com")) {
            try SMTPDeliveryAgent.truncateSelf(best, ownAddresses: own, bestPreference: 5, name: "example.com").get()
        }
    }

    @Test("inet_interfaces addresses become the client's own addresses when host facts are given")
    func ownAddresses() throws {
        let settings = try SMTPClientSettings(
            clientConfiguration("inet_interfaces = 192.0.2.10\nproxy_interfaces = 198.51.100.7\n"),
            host: HostFacts(hostname: "test", interfaceAddresses: [], processID: 1))
        #expect(settings.ownAddresses == ["192.0.2.10", "198.51.100.7"])
    }
}
