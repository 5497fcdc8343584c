import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("searching lists of tables")
    struct Lists {
        @Test func parsesAParameterValue() throws {
            let list = try TableList(parsing: "inline:{ a=1 }, static:{ fall back }  regexp:{ {/x/ y} }")
            #expect(list.tables.map(\.reference.kind) == [.inline, .static, .regexp])
            #expect(try list.lookup("a")?.value == "1")
            #expect(try list.lookup("zzz")?.value == "fall back")
            #expect(try TableList(parsing: "").tables.isEmpty)
            #expect(try TableList(parsing: " , ").lookup("a") == nil)
        }

        @Test func parameterErrorsNameTheTable() {
            #expect {
                try TableList(parsing: "inline:{a=1}, ldap:/etc/postfix/ldap.cf")
            } throws: { error in
                (error as? TableError)?.code == .unsupportedType
            }
        }

        @Test func firstKeyThenFirstTable() throws {
            let list = try TableList(parsing: "inline:{ @example.com=catchall }, inline:{ user@example.com=exact }")
            let match = try #require(try list.find(AddressKeys().aliasKeys(for: "user@example.com", domainIsLocal: false)))
            #expect(match.value == "exact")
            #expect(match.key.text == "user@example.com")
            #expect(match.table.description == "inline:{ user@example.com=exact }")
        }

        @Test func patternTablesSeeOnlyFullKeys() throws {
            let list = try TableList(
                parsing: #"regexp:{ {/^example\.com$/ REGEXP-DOMAIN}, {/^joe@$/ REGEXP-USER} }, cidr:{ {10.0.0.0/8 NET} }, inline:{ example.com=INLINE-DOMAIN }"#
            )
            let keys = AddressKeys().accessKeys(forAddress: "joe@example.com")
            let match = try #require(try list.find(keys))
            #expect(match.value == "INLINE-DOMAIN")
            #expect(match.key.isPartial)

            let clients = AddressKeys().accessKeys(forClientName: "unknown", address: "10.1.2.3")
            #expect(try list.find(clients)?.value == "NET")
            let regexpOnly = try TableList(parsing: #"regexp:{ {/^10\.1$/ PREFIX} }"#)
            #expect(try regexpOnly.find(AddressKeys.accessKeys(forClientAddress: "10.1.2.3")) == nil)
            #expect(try regexpOnly.lookup("10.1", partial: true) == nil)
            #expect(try regexpOnly.lookup("10.1")?.value == "PREFIX")
        }

        @Test func fixedTablesFoldPartialKeys() throws {
            let table = try openTable("inline:{ .example.com=DOT }")
            let match = try #require(try table.find(AddressKeys().accessKeys(forAddress: "Joe@Mail.EXAMPLE.com")))
            #expect(match.value == "DOT")
            #expect(match.key.text == ".EXAMPLE.com")
        }

        @Test func emptyResultIsAnErrorThatStopsTheSearch() throws {
            let list = try TableList(parsing: "inline:{ a= }, inline:{ a=later }")
            do {
                _ = try list.lookup("a")
                Issue.record("an empty result was accepted")
            } catch let error as TableError {
                #expect(error.code == .emptyResult)
                #expect(error.description.hasPrefix("inline:{ a= }: lookup of \"a\" returns an empty string result"))
            }
        }

        @Test func emptyKeysAreNotLookedUp() throws {
            #expect(try TableList(parsing: "static:x").lookup("") == nil)
        }
    }
}
