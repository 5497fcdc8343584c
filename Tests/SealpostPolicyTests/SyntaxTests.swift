import SealpostConfig
import SealpostRouting
import SealpostTestSupport
import Testing

@testable import SealpostPolicy

/// The building blocks: Postfix's name and address syntax, quoting, address-table keys,
/// enhanced status codes, match lists.
@Suite struct SyntaxTests {
    // valid_hostname.c and its test input (valid_hostname.in).
    @Test(arguments: [
        ("name", true), ("name.domain", true), ("123.domain", true), ("name_with_underscore.example", true), ("a-b.c", true),
        ("", false), ("123", false), ("1.2.3.4", false), ("-name", false), ("name-", false), ("na..me", false), (".name", false),
        ("name.", false), ("name!", false), (String(repeating: "a", count: 64) + ".example", false),
        (String(repeating: "a", count: 63) + ".example", true),
    ])
    func hostnames(_ name: String, _ valid: Bool) {
        #expect(HostnameSyntax.isValidHostname(name) == valid, "\(name)")
    }

    @Test(arguments: [
        ("1.2.3.4", true), ("0.0.0.0", true), ("255.255.255.255", true), ("256.1.1.1", false), ("1.2.3", false),
        ("1.2.3.4.5", false), ("0.1.2.3", false), ("1..2.3", false), ("1.2.3.", false), ("::1", true), ("::", true),
        ("2001:db8::1", true), ("2001:db8:0:0:0:0:0:1", true), ("::ffff:1.2.3.4", true), ("1:2:3:4:5:6:7:8:9", false),
        ("2001::db8::1", false), (":1::2", false), ("12345::", false), ("fe80::1%eth0", false),
    ])
    func hostAddresses(_ address: String, _ valid: Bool) {
        #expect(HostnameSyntax.isValidHostAddress(address) == valid, "\(address)")
    }

    @Test func addressLiterals() {
        #expect(HostnameSyntax.mailhostAddress("192.0.2.1") == "192.0.2.1")
        #expect(HostnameSyntax.mailhostAddress("IPv6:2001:db8::1") == "2001:db8::1")
        #expect(HostnameSyntax.mailhostAddress("ipv6:::1") == "::1")
        #expect(HostnameSyntax.mailhostAddress("2001:db8::1") == nil)
        #expect(HostnameSyntax.mailhostAddress("1.2.3") == nil)
    }

    // RFC 3492, 7.1 and IDNA A-labels.
    @Test func punycode() {
        #expect(Punycode.asciiDomain("bücher.example") == "xn--bcher-kva.example")
        #expect(Punycode.asciiDomain("München.DE") == "xn--mnchen-3ya.de")
        #expect(Punycode.asciiDomain("例え.テスト") == "xn--r8jz45g.xn--zckzah")
        #expect(Punycode.asciiDomain("plain.example") == "plain.example")
        #expect(HostnameSyntax.isValidUTF8Hostname("bücher.example", allowUTF8: true))
        #expect(!HostnameSyntax.isValidUTF8Hostname("bücher.example", allowUTF8: false))
    }

    @Test func quotingAsInQuote822Local() {
        #expect(AddressForms.quoted("user@example.com") == "user@example.com")
        #expect(AddressForms.quoted("user@remote.test@example.com") == "\"user@remote.test\"@example.com")
        #expect(AddressForms.quoted("first last@example.com") == "\"first last\"@example.com")
        #expect(AddressForms.quoted("a\"b\\c@x") == "\"a\\\"b\\\\c\"@x")
        #expect(AddressForms.quoted("user.@x") == "\"user.\"@x")
        #expect(AddressForms.quoted("user%x@y") == "user%x@y")
        #expect(AddressForms.quoted("üser@x") == "üser@x")
        #expect(AddressForms.quoted("a b", bareLocalPart: true) == "\"a b\"")
    }

    @Test func localRewriting() {
        let settings = AddressForms.RewriteSettings(
            myorigin: "mx.example.com", mydomain: "example.com", swapBangPath: true, percentHack: true, appendAtMyorigin: true,
            appendDotMydomain: true)
        let cases: [(String, String)] = [
            ("", ""), ("@", ""), ("user", "user@mx.example.com"), ("site!user", "user@site.example.com"),
            ("user%site", "user@site.example.com"), ("user@host", "user@host.example.com"), ("user@host.", "user@host"), ("user@host", "user@host.example.com"),
            ("user@host.test.", "user@host.test"), ("user@host..", "user@host.."), ("@a,@b:user@c.test", "user@c.test"),
            ("user@[1.2.3.4]", "user@[1.2.3.4]"), ("a b!c", "a b!c@mx.example.com"),
        ]
        for (input, output) in cases {
            #expect(AddressForms.rewriteLocal(input, settings) == output, "\(input)")
        }
    }

    // mail_addr_find.c with smtpd's strategies.
    @Test func addressTableKeys() throws {
        let search = AddressTableSearch(
            keys: AddressKeys(recipientDelimiter: "+"), myorigin: "mx.example.com", isLocalDomain: { $0 == "example.com" })
        let access: AddressTableSearch.Strategy = [.full, .noExtension, .domain, .localPartAt, .parentDotSubdomains]
        #expect(try search.keys(for: "user+ext@a.b.test", strategy: access).map(\.text) == [
            "user+ext@a.b.test", "user@a.b.test", "a.b.test", ".b.test", ".test", "user+ext@", "user@",
        ])
        #expect(try search.keys(for: "user+ext@a.b.test", strategy: access).map(\.isPartial) == [false, true, true, true, true, true, true])
        #expect(try search.keys(for: "first last@x.test", strategy: [.full, .localPartAt]).map(\.text) == [
            "\"first last\"@x.test", "first last@x.test", "\"first last\"@", "first last@",
        ])
        #expect(try search.keys(for: "user+ext@example.com", strategy: .default).map(\.text) == [
            "user+ext@example.com", "user@example.com", "user+ext", "user", "@example.com",
        ])
        #expect(try search.keys(for: "user@remote.test", strategy: .default).map(\.text) == ["user@remote.test", "@remote.test"])
        #expect(try search.keys(for: "user@MX.example.COM", strategy: .default).map(\.text) == ["user@MX.example.COM", "user", "@MX.example.COM"])
        #expect(try search.keys(for: "postmaster+x@example.com", strategy: .default).map(\.text) == [
            "postmaster+x@example.com", "postmaster@example.com", "postmaster+x", "postmaster", "@example.com",
        ])
        // split_addr(): the special names are compared with the whole local part.
        #expect(try AddressTableSearch(keys: AddressKeys(recipientDelimiter: "-"), myorigin: "", isLocalDomain: { _ in true })
            .keys(for: "MAILER-DAEMON@example.com", strategy: .default).map(\.text) == ["MAILER-DAEMON@example.com", "MAILER-DAEMON", "@example.com"])
    }

    @Test func enhancedStatusCodes() {
        #expect(EnhancedStatus.validLength("5.7.1 text") == 5)
        #expect(EnhancedStatus.validLength("4.123.456") == 9)
        #expect(EnhancedStatus.validLength("3.7.1 x") == 0)
        #expect(EnhancedStatus.validLength("5.1234.1") == 0)
        #expect(EnhancedStatus.validLength("5.7.1x") == 0)
        #expect(EnhancedStatus.split("5.7.9 custom", defaultStatus: "5.7.1") == ("5.7.9", "custom"))
        #expect(EnhancedStatus.split("  just text", defaultStatus: "4.7.1") == ("4.7.1", "just text"))
        #expect(EnhancedStatus.split("", defaultStatus: "5.7.1") == ("5.7.1", ""))
        #expect(EnhancedStatus.fix("5.1.1", for: .sender) == ("4.1.7", "mapping DSN status 5.1.1 into Sender address status 5.1.7"))
        #expect(EnhancedStatus.fix("5.1.7", for: .recipient).status == "4.1.3")
        #expect(EnhancedStatus.fix("5.1.1", for: .client).status == "4.0.0")
        #expect(EnhancedStatus.fix("5.1.1", for: .recipient) == ("4.1.1", nil))
        #expect(EnhancedStatus.fix("5.7.1", for: .sender) == ("5.7.1", nil))
    }

    @Test func printable() {
        #expect(printableText(Array("a\tb\u{7F}c".utf8), allowUTF8: true) == Array("a b c".utf8))
        #expect(printableText(Array("é".utf8), allowUTF8: true) == Array("é".utf8))
        #expect(printableText(Array("é".utf8), allowUTF8: false) == Array("  ".utf8))
        #expect(printableText([0xC3], allowUTF8: true) == Array(" ".utf8))
        #expect(printableText(Array("a_b".utf8), replacement: UInt8(ascii: "_"), allowUTF8: true) == Array("a_b".utf8))
    }

    // namadr_list(3) as mynetworks uses it.
    @Test func clientMatchLists() throws {
        let environment = try PolicyTestEnvironment()
        let file = try environment.directory.write("networks", "# trusted\n!192.0.2.200\n192.0.2.128/25 [2001:db8:1::]/48\n")
        func list(_ words: [String], parent: Bool = true) throws -> ClientMatchList {
            try ClientMatchList(parameter: "mynetworks", words: words, parentMatchesSubdomains: parent)
        }
        let networks = try list(["127.0.0.0/8", "[::1]/128", "10.1.2.3", "[10.9.9.9]", "!192.0.2.201", file, "example.com", ".dot.test"])
        let cases: [(String, String, Bool)] = [
            ("unknown", "127.0.0.9", true), ("unknown", "::1", true), ("unknown", "0:0:0:0:0:0:0:1", true), ("unknown", "10.1.2.3", true),
            ("unknown", "10.9.9.9", true), ("unknown", "10.1.2.4", false), ("unknown", "192.0.2.130", true), ("unknown", "192.0.2.100", false),
            ("unknown", "2001:db8:1:2::1", true), ("unknown", "2001:db8:2::1", false), ("mail.example.com", "198.51.100.1", true),
            ("example.com", "198.51.100.1", true), ("badexample.com", "198.51.100.1", false),
            // With parent matching a ".domain" pattern matches nothing but itself (match_hostname()).
            ("x.dot.test", "198.51.100.1", false),
            ("dot.test", "198.51.100.1", false), ("unknown", "192.0.2.201", false),
        ]
        for (name, address, expected) in cases {
            #expect(try networks.matches(name: name, address: address) == expected, "\(name)[\(address)]")
        }
        // A negation in the file ends the search with "no" before a later, wider pattern.
        #expect(try list([file, "192.0.2.0/24"]).matches(name: "unknown", address: "192.0.2.200") == false)
        #expect(try list(["example.com"], parent: false).matches(name: "mail.example.com", address: "198.51.100.1") == false)
        #expect(try list([".dot.test"], parent: false).matches(name: "x.dot.test", address: "198.51.100.1"))
        let table = try list(["inline:{ {10.5.5.5=ok}, {trusted.example=ok} }"])
        #expect(try table.matches(name: "unknown", address: "10.5.5.5"))
        #expect(try table.matches(name: "a.trusted.example", address: "198.51.100.1"))
        #expect(try table.matches(name: "unknown", address: "10.5.5.6") == false)
    }
}

/// Fixes made to SealpostRouting while building the policy.
@Suite struct AddressResolverFixTests {
    // resolve.c: an empty domain is stripped like a local one, so user%remote@ goes on to
    // user@remote (and is not a syntax error), while user@ stays invalid. Recorded from Postfix:
    // RCPT TO:<user%remote.test@> → 454 4.7.1 Relay access denied; RCPT TO:<user@> → 501 5.1.3.
    @Test func anEmptyDomainIsStrippedLikeALocalOne() throws {
        let configuration = try PolicyTestEnvironment().configuration()
        let resolver = AddressResolver(settings: try RoutingSettings(configuration.global, host: testHost))
        let routed = try resolver.resolve("user%remote.test@")
        #expect(routed.recipient == "user@remote.test" && routed.addressClass == .default && !routed.isInvalid)
        #expect(try resolver.resolve("user@").isInvalid)
        #expect(try resolver.resolve("remote.test!user@").recipient == "user@remote.test")
    }
}
