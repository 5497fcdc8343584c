import Testing
@testable import SMTPCore

@Suite struct AddressTests {
    struct Fixture: CustomStringConvertible, Sendable {
        let text: String
        let outcome: Outcome
        let internalForm: String?
        let canonical: String?
        init(_ text: String, _ outcome: Outcome, _ internalForm: String? = nil, _ canonical: String? = nil) {
            self.text = text
            self.outcome = outcome
            self.internalForm = internalForm
            self.canonical = canonical
        }
        var description: String { text.debugDescription }
    }

    static let fixtures: [Fixture] = [
        Fixture("<user@example.com>", .success, "user@example.com", "<user@example.com>"),
        Fixture("<>", .success, "", "<>"),
        Fixture("<postmaster>", .success, "postmaster", "<postmaster>"),
        Fixture("user@example.com", .success, "user@example.com", "<user@example.com>"),
        Fixture("<\"john doe\"@example.com>", .success, "john doe@example.com", "<\"john doe\"@example.com>"),
        Fixture("<\"john\"@example.com>", .success, "john@example.com", "<john@example.com>"),
        Fixture("<\"a\\\"b\"@example.com>", .success, "a\"b@example.com", "<\"a\\\"b\"@example.com>"),
        Fixture("<\"user@elsewhere\"@example.com>", .success, "user@elsewhere@example.com", "<\"user@elsewhere\"@example.com>"),
        Fixture("<\"\"@example.com>", .success, "@example.com", "<\"\"@example.com>"),
        Fixture("<a..b@example.com>", .success, "a..b@example.com", "<\"a..b\"@example.com>"),
        Fixture("<user%elsewhere@example.com>", .success, "user%elsewhere@example.com", "<user%elsewhere@example.com>"),
        Fixture("<elsewhere!user@example.com>", .success, "elsewhere!user@example.com", "<elsewhere!user@example.com>"),
        Fixture("<@relay.example,@other.example:user@example.com>", .success, "user@example.com", "<user@example.com>"),
        Fixture("<@relay.example:user@example.com>", .success, "user@example.com", "<user@example.com>"),
        Fixture("<user@[192.0.2.1]>", .success, "user@[192.0.2.1]", "<user@[192.0.2.1]>"),
        Fixture("<user@[IPv6:2001:db8::1]>", .success, "user@[IPv6:2001:db8::1]", "<user@[IPv6:2001:db8::1]>"),
        Fixture("<user@[ipv6:::ffff:192.0.2.1]>", .success, "user@[ipv6:::ffff:192.0.2.1]", nil),
        Fixture("<user@[IPv6:1:2:3:4:5:6:7:8]>", .success, nil, nil),
        Fixture("<user@example.com.>", .success, "user@example.com.", nil),
        Fixture("<user@mail_host.example>", .success, nil, nil),
        Fixture("<user+tag@example.com>", .success, nil, nil),
        Fixture("<jürgen@example.com>", .success, "jürgen@example.com", "<jürgen@example.com>"),
        // Failures.
        Fixture("<user@example.com", .failure),
        Fixture("user@example.com>", .failure),
        Fixture("<<user@example.com>>", .failure),
        Fixture("<user@>", .failure),
        Fixture("<@example.com>", .failure),
        Fixture("<user@example..com>", .failure),
        Fixture("<user@.example.com>", .failure),
        Fixture("<user@example.com..>", .failure),
        Fixture("<user@-example.com>", .failure),
        Fixture("<user@example-.com>", .failure),
        Fixture("<user@192.0.2.1>", .failure),
        Fixture("<user@[192.0.2.256]>", .failure),
        Fixture("<user@[192.0.2]>", .failure),
        Fixture("<user@[IPv6:2001:db8:::1]>", .failure),
        Fixture("<user@[IPv6:1:2:3:4:5:6:7:8:9]>", .failure),
        Fixture("<user@[IPv6:1::2::3]>", .failure),
        Fixture("<user@[tag:content]>", .failure),
        Fixture("<user@[192.0.2.1>", .failure),
        Fixture("<us er@example.com>", .failure),
        Fixture("<user@exa mple.com>", .failure),
        Fixture("<\"unterminated@example.com>", .failure),
        Fixture("<\"a\"b@example.com>", .failure),
        Fixture("<user@example.com\u{0}>", .failure),
        Fixture("<user\r\n@example.com>", .failure),
        Fixture("<us\u{7F}er@example.com>", .failure),
        Fixture("<a(b)@example.com>", .failure),
        Fixture("<a\\b@example.com>", .failure),
        Fixture("<@relay.example:>", .failure),
        Fixture("<@relay..example:user@example.com>", .failure),
        Fixture("<@relay.example,user@example.com>", .failure),
        Fixture("<user@bücher.example>", .failure),
        Fixture("<-user@example.com>", .failure),
        Fixture("<user@" + String(repeating: "a", count: 64) + ".example>", .failure),
        Fixture("<" + String(repeating: "a", count: 65) + "@example.com>", .failure),
        Fixture("<user@" + String(repeating: "abcdefghi.", count: 26) + "com>", .failure),
    ]

    @Test(arguments: fixtures)
    func fixture(_ fixture: Fixture) {
        let result = AddressGrammar().parsePath(fixture.text, allowNull: true, smtputf8: false)
        switch (fixture.outcome, result) {
        case (.success, .success(let path)):
            if let internalForm = fixture.internalForm { #expect(path.address == internalForm) }
            if let canonical = fixture.canonical { #expect(path.canonicalForm == canonical) }
            #expect(path.raw == fixture.text)
        case (.failure, .failure):
            break
        default:
            Issue.record("\(fixture.text.debugDescription): expected \(fixture.outcome), got \(result)")
        }
    }

    @Test func relayTricksAreVisible() throws {
        let grammar = AddressGrammar()
        func mailbox(_ text: String) throws -> Mailbox {
            try #require(try grammar.parsePath(text, allowNull: false, smtputf8: false).get().mailbox)
        }
        let quotedAt = try mailbox("<\"user@elsewhere.example\"@example.com>")
        #expect(quotedAt.localPartContainsAt)
        #expect(quotedAt.localPartWasQuoted)
        #expect(quotedAt.localPart == "user@elsewhere.example")
        #expect(quotedAt.localPartHasRoutingOperators)
        #expect(try mailbox("<user%elsewhere.example@example.com>").localPartContainsPercent)
        #expect(try mailbox("<elsewhere.example!user@example.com>").localPartContainsBang)
        #expect(try mailbox("<user@example.com.>").domain?.hasTrailingDot == true)
        #expect(try mailbox("<user@example.com.>").domain?.normalizedName == "example.com")
        let literal = try mailbox("<user@[192.0.2.1]>")
        #expect(literal.domain?.isAddressLiteral == true)
        #expect(literal.domain?.addressLiteral == .ipv4(192, 0, 2, 1))
        #expect(try mailbox("<user@[IPv6:2001:db8::1]>").domain?.addressLiteral == .ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]))
        #expect(try mailbox("<user@[IPv6:::ffff:192.0.2.1]>").domain?.addressLiteral == .ipv6([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]))
        #expect(try !mailbox("<plain@example.com>").localPartHasRoutingOperators)
        let routed = try grammar.parsePath("<@a.example,@b.example:user@c.example>", allowNull: false, smtputf8: false).get()
        #expect(routed.sourceRoute.map(\.text) == ["a.example", "b.example"])
        #expect(routed.canonicalForm == "<user@c.example>")
        #expect(try mailbox("<PostMaster>").isBarePostmaster)
    }

    @Test func smtputf8AddressesNeedTheParameterForTheirDomain() throws {
        let grammar = AddressGrammar()
        #expect(throws: AddressSyntaxError.nonASCIIWithoutSMTPUTF8) {
            try grammar.parsePath("<user@bücher.example>", allowNull: false, smtputf8: false).get()
        }
        let path = try grammar.parsePath("<用户@例子.广告>", allowNull: false, smtputf8: true).get()
        #expect(path.mailbox?.localPart == "用户")
        #expect(path.mailbox?.isASCII == false)
        #expect(path.canonicalForm == "<用户@例子.广告>")
    }

    /// Fuzzing found this: a 64-octet local part that needs quotes (`a..b`) was accepted, but its
    /// canonical (quoted) form was 66 octets and refused. The limit now counts the unquoted local part.
    @Test func localPartLimitCountsTheUnquotedText() throws {
        let local = String(repeating: "a", count: 31) + ".." + String(repeating: "b", count: 31)
        let grammar = AddressGrammar()
        let path = try grammar.parsePath("<\(local)@example.com>", allowNull: false, smtputf8: false).get()
        #expect(path.canonicalForm == "<\"\(local)\"@example.com>")
        #expect(try grammar.parsePath(path.canonicalForm, allowNull: false, smtputf8: false).get().address == path.address)
        #expect(throws: AddressSyntaxError.localPartTooLong) {
            try grammar.parsePath("<\"\(local)x\"@example.com>", allowNull: false, smtputf8: false).get()
        }
    }

    @Test func minUserOption() throws {
        let lenient = AddressGrammar(options: .init(allowMinUser: true))
        #expect(try lenient.parsePath("<-user@example.com>", allowNull: false, smtputf8: false).get().address == "-user@example.com")
    }

    @Test func canonicalQuotingFollowsQuote821Local() {
        let cases: [(String, String)] = [
            ("john", "john"), ("john.doe", "john.doe"), ("john doe", "\"john doe\""), (".john", "\".john\""),
            ("john.", "\"john.\""), ("a..b", "\"a..b\""), ("a\"b", "\"a\\\"b\""), ("a\\b", "\"a\\\\b\""),
            ("a@b", "\"a@b\""), ("", "\"\""), ("a,b", "\"a,b\""), ("jürgen", "jürgen"),
        ]
        for (local, quoted) in cases {
            #expect(Mailbox(localPart: local, domain: MailDomain(text: "example.com")).canonicalForm == quoted + "@example.com")
        }
    }

    @Test func canonicalFormParsesBackToTheSameMailbox() throws {
        let grammar = AddressGrammar()
        for local in ["john", "john doe", "a\"b", "a\\b", "user@elsewhere", "a..b", "x!y%z", "(comment)"] {
            let mailbox = Mailbox(localPart: local, domain: MailDomain(text: "example.com"))
            let parsed = try grammar.parsePath(SMTPPath(mailbox: mailbox).canonicalForm, allowNull: false, smtputf8: false).get()
            #expect(parsed.mailbox?.localPart == local)
            #expect(parsed.mailbox?.internalForm == local + "@example.com")
        }
    }
}
