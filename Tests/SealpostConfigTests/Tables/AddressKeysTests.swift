import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("address lookup key order")
    struct AddressKeyOrder {
        /// Keys written compactly: a trailing "~" marks a partial key, "[+ext]" the unmatched extension.
        static func render(_ keys: [LookupKey]) -> [String] {
            keys.map { key in
                key.text + (key.isPartial ? "~" : "") + (key.unmatchedExtension.map { "[\($0)]" } ?? "")
            }
        }

        let plus = AddressKeys(recipientDelimiter: "+")

        @Test func aliasKeysForALocalDomain() {
            #expect(
                Self.render(plus.aliasKeys(for: "user+ext@example.com", domainIsLocal: true)) == [
                    "user+ext@example.com", "user@example.com~[+ext]", "user+ext~", "user~[+ext]", "@example.com~",
                ])
        }

        @Test func aliasKeysForARemoteDomain() {
            #expect(
                Self.render(plus.aliasKeys(for: "user+ext@example.com", domainIsLocal: false)) == [
                    "user+ext@example.com", "user@example.com~[+ext]", "@example.com~",
                ])
            #expect(Self.render(plus.aliasKeys(for: "user@example.com", domainIsLocal: false)) == [
                "user@example.com", "@example.com~",
            ])
        }

        @Test func aliasKeysWithoutDelimiter() {
            let none = AddressKeys()
            #expect(Self.render(none.aliasKeys(for: "user+ext@example.com", domainIsLocal: true)) == [
                "user+ext@example.com", "user+ext~", "@example.com~",
            ])
            #expect(Self.render(none.aliasKeys(for: "user", domainIsLocal: true)) == ["user"])
        }

        @Test func caseIsKept() {
            #expect(Self.render(plus.aliasKeys(for: "User+Ext@Example.COM", domainIsLocal: false)) == [
                "User+Ext@Example.COM", "User@Example.COM~[+Ext]", "@Example.COM~",
            ])
        }

        @Test(arguments: [
            ("user-foo+bar@d", "+-", "user@d", "-foo+bar"),
            ("user+foo-bar@d", "+-", "user@d", "+foo-bar"),
            ("user+@d", "+", "user@d", "+"),
            ("a@b@d", "+", nil, nil),
            ("a+x@b@d", "+", "a@d", "+x@b"),
            ("+foo@d", "+", nil, nil),
            ("user@my+domain", "+", nil, nil),
            ("postmaster@d", "+", nil, nil),
            ("postmaster+x@d", "+", "postmaster@d", "+x"),
            ("MAILER-DAEMON@d", "-", nil, nil),
            ("Double-Bounce@d", "-", nil, nil),
            ("owner-list@d", "-", nil, nil),
            ("list-request@d", "-", nil, nil),
            ("-request@d", "-", nil, nil),
            ("owner-list@d", "+", nil, nil),
            ("owner+list@d", "+", "owner@d", "+list"),
            ("user.name@d", ".", "user@d", ".name"),
        ] as [(String, String, String?, String?)])
        func extensionSplitting(address: String, delimiters: String, bare: String?, ext: String?) {
            let split = AddressKeys(recipientDelimiter: delimiters).splitExtension(address)
            #expect(split?.address == bare)
            #expect(split?.extension == ext)
        }

        @Test func ownerRequestSpecialOff() {
            let keys = AddressKeys(recipientDelimiter: "-", ownerRequestSpecial: false)
            #expect(keys.splitExtension("owner-list@d")?.address == "owner@d")
            #expect(keys.splitExtension("list-request@d")?.extension == "-request")
        }

        @Test func accessKeysDotStyle() {
            #expect(
                Self.render(plus.accessKeys(forAddress: "user+foo@sub.example.com")) == [
                    "user+foo@sub.example.com", "user@sub.example.com~[+foo]", "sub.example.com~", ".example.com~",
                    ".com~", "user+foo@~", "user@~[+foo]",
                ])
        }

        @Test func accessKeysParentStyle() {
            let parent = AddressKeys(recipientDelimiter: "+", parentDomainMatchesSubdomains: true)
            #expect(
                Self.render(parent.accessKeys(forAddress: "user@sub.example.com")) == [
                    "user@sub.example.com", "sub.example.com~", "example.com~", "com~", "user@~",
                ])
        }

        @Test func accessKeysWithoutDomain() {
            #expect(Self.render(plus.accessKeys(forAddress: "user+x")) == ["user+x", "user~[+x]"])
            #expect(Self.render(plus.accessKeys(forAddress: "user@")) == ["user@", "user@~"])
        }

        @Test func hostnameKeys() {
            #expect(Self.render(AddressKeys().accessKeys(forHostname: "mail.example.com")) == [
                "mail.example.com", ".example.com~", ".com~",
            ])
            let parent = AddressKeys(parentDomainMatchesSubdomains: true)
            #expect(Self.render(parent.accessKeys(forHostname: "mail.example.com")) == [
                "mail.example.com", "example.com~", "com~",
            ])
            #expect(Self.render(AddressKeys().accessKeys(forHostname: "192.0.2.1")) == ["192.0.2.1"])
            #expect(Self.render(AddressKeys().accessKeys(forHostname: "2001:db8::1")) == ["2001:db8::1"])
            #expect(Self.render(AddressKeys().accessKeys(forHostname: "1.2.3")) == ["1.2.3", ".2.3~", ".3~"])
            #expect(Self.render(AddressKeys().accessKeys(forHostname: "unknown")) == ["unknown"])
            #expect(AddressKeys().accessKeys(forHostname: "").isEmpty)
        }

        @Test func clientAddressKeys() {
            #expect(Self.render(AddressKeys.accessKeys(forClientAddress: "192.0.2.10")) == [
                "192.0.2.10", "192.0.2~", "192.0~", "192~",
            ])
            #expect(Self.render(AddressKeys.accessKeys(forClientAddress: "2001:db8:1::5")) == [
                "2001:db8:1::5", "2001:db8:1:~", "2001:db8:1~", "2001:db8~", "2001~",
            ])
            #expect(Self.render(AddressKeys.accessKeys(forClientAddress: "::1")) == ["::1", ":~"])
        }

        @Test func clientKeysAreNameThenAddress() {
            #expect(Self.render(AddressKeys().accessKeys(forClientName: "mx.example.org", address: "192.0.2.10")) == [
                "mx.example.org", ".example.org~", ".org~", "192.0.2.10", "192.0.2~", "192.0~", "192~",
            ])
        }

        @Test(arguments: [
            ("1.2.3.4", true), ("0.0.0.0", true), ("0.1.2.3", false), ("256.1.1.1", false), ("1.2.3.", false),
            ("1.2.3", false), ("::1", true), ("2001:db8::1", true), ("::ffff:1.2.3.4", true), ("1:2:3:4:5:6:7:8", true),
            ("1::2::3", false), ("12345::1", false), ("example.com", false), ("[1.2.3.4]", false), (":1", false),
        ])
        func numericHostnames(text: String, numeric: Bool) {
            #expect(AddressKeys.isHostAddress(text) == numeric)
        }

        // Cases from Postfix's own global/mail_addr_find.in and .ref.
        @Test func postfixMailAddrFindCases() throws {
            let atDomain = try TableList(
                parsing: "inline:{plain1@1.example=plain2@2.example,@3.example=plain4@4.example,plain5@3.example=plain6@6.example}")
            func alias(_ address: String, local: Bool = false) throws -> LookupMatch? {
                try atDomain.find(plus.aliasKeys(for: address, domainIsLocal: local))
            }
            let first = try #require(try alias("plain1+ext@1.example"))
            #expect(first.value == "plain2@2.example")
            #expect(first.key.unmatchedExtension == "+ext")
            #expect(first.propagatingExtension(to: first.value) == "plain2+ext@2.example")
            #expect(try alias("plain2@2.example") == nil)
            #expect(try alias("plain3@3.example")?.value == "plain4@4.example")
            #expect(try alias("plain5@3.example")?.value == "plain6@6.example")

            let local = try TableList(parsing: "inline:{ab=foo@example,@localhost.localdomain=@bar.example}")
            let ab = try #require(try local.find(plus.aliasKeys(for: "ab@localhost.localdomain", domainIsLocal: true)))
            #expect(ab.value == "foo@example")
            #expect(ab.key.unmatchedExtension == nil)
            #expect(
                try local.find(plus.aliasKeys(for: "cd@localhost.localdomain", domainIsLocal: true))?.value == "@bar.example")

            let precedence = try TableList(parsing: "inline:{ab@=foo@example,localhost.localdomain=@bar.example}")
            #expect(try precedence.find(plus.accessKeys(forAddress: "ab@localhost.localdomain"))?.value == "@bar.example")
            #expect(try precedence.find(plus.accessKeys(forAddress: "ab@foo"))?.value == "foo@example")

            let subdomains = try TableList(parsing: "inline:{example=example-result,.example=dot-example-result}")
            let parentStyle = AddressKeys(parentDomainMatchesSubdomains: true)
            let dotStyle = AddressKeys()
            #expect(try subdomains.find(parentStyle.accessKeys(forAddress: "foo@sub.sub.example"))?.value == "example-result")
            #expect(try subdomains.find(dotStyle.accessKeys(forAddress: "foo@sub.sub.example"))?.value == "dot-example-result")
            #expect(try subdomains.find(dotStyle.accessKeys(forAddress: "foo@example"))?.value == "example-result")
        }

        @Test func propagatingExtension() {
            let match = LookupMatch(
                value: "x", key: LookupKey("u@d", isPartial: true, unmatchedExtension: "+e"),
                table: TableReference(kind: .static, name: "x"))
            #expect(match.propagatingExtension(to: "a@b@c") == "a@b+e@c")
            #expect(match.propagatingExtension(to: "local") == "local+e")
            let full = LookupMatch(value: "x", key: LookupKey("u+e@d"), table: TableReference(kind: .static, name: "x"))
            #expect(full.propagatingExtension(to: "a@b") == "a@b")
        }
    }
}
