import Testing

@testable import SealpostConfig

extension Tables {
    @Suite("type:name references")
    struct References {
        @Test(arguments: [
            ("hash:/etc/postfix/access", TableReference.Kind.hash, "/etc/postfix/access"),
            ("proxy:hash:/x", .hash, "/x"),
            ("texthash:relative/file", .texthash, "relative/file"),
            ("lmdb:/a", .lmdb, "/a"),
            ("btree:/a", .btree, "/a"),
            ("cdb:/a", .cdb, "/a"),
            ("inline:{ a=b, { c = d e } }", .inline, "{ a=b, { c = d e } }"),
            ("static:{text with spaces}", .static, "{text with spaces}"),
            ("static:OK", .static, "OK"),
            ("regexp:{{/x/ y}, {/z/ w}}", .regexp, "{{/x/ y}, {/z/ w}}"),
            ("pcre:/etc/postfix/a:b", .pcre, "/etc/postfix/a:b"),
            ("cidr:/etc/postfix/clients", .cidr, "/etc/postfix/clients"),
            ("  hash:/padded  ", .hash, "/padded"),
        ])
        func parses(text: String, kind: TableReference.Kind, name: String) throws {
            let reference = try TableReference(parsing: text)
            #expect(reference.kind == kind)
            #expect(reference.name == name)
            #expect(reference.description == "\(kind.rawValue):\(name)")
        }

        @Test(arguments: [
            "ldap", "mysql", "pgsql", "sqlite", "memcache", "tcp", "socketmap", "nis", "nisplus", "netinfo",
            "sdbm", "dbm", "fail", "environ", "pipemap", "unionmap", "randmap", "internal", "HASH",
        ])
        func rejectsUnsupportedTypes(type: String) {
            #expect {
                try TableReference(parsing: "\(type):/etc/postfix/x")
            } throws: { error in
                guard let error = error as? TableError else { return false }
                let text = error.description
                return error.code == .unsupportedType && text.contains("\"\(type)\"")
                    && text.contains("btree, cdb, cidr, hash, inline, lmdb, pcre, regexp, static, texthash")
            }
        }

        @Test func unsupportedTypeBehindProxyNamesTheInnerType() {
            #expect(throws: TableError.self) { try TableReference(parsing: "proxy:ldap:/etc/postfix/ldap.cf") }
            do {
                _ = try TableReference(parsing: "proxy:ldap:/etc/postfix/ldap.cf")
            } catch {
                #expect(error.message.contains("\"ldap\""))
            }
        }

        @Test(arguments: ["access", "", "hash:", ":/etc/x", "proxy:", "proxy:hash", "  "])
        func rejectsTextWithoutTypeAndName(text: String) {
            do {
                _ = try TableReference(parsing: text)
                Issue.record("\"\(text)\" parsed")
            } catch {
                #expect(error.code == .notTypeName)
                #expect(error.description.contains("expected a lookup table as type:name"))
            }
        }

        @Test func inlineness() throws {
            #expect(try TableReference(parsing: "regexp:{{/a/ b}}").isInline)
            #expect(try !TableReference(parsing: "regexp:/etc/x").isInline)
            #expect(try TableReference(parsing: "static:x").isInline)
            #expect(try !TableReference(parsing: "hash:{x}").isInline)
        }
    }
}
