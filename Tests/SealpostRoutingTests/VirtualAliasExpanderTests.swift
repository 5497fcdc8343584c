import SealpostConfig
import Testing

@testable import SealpostRouting

@Suite struct VirtualAliasExpanderTests {
    func expander(_ aliases: String, extra: String = "") throws -> VirtualAliasExpander {
        let text = """
            myhostname = mx.example.com
            mydomain = example.com
            mydestination = $myhostname, localhost
            virtual_alias_maps = inline:{ \(aliases) }
            recipient_delimiter = +
            \(extra)
            """
        let configuration = Configuration(
            directory: "/etc/sealpost", main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: "master.cf", bytes: []), host: AddressResolverTests.host)
        let resolver = AddressResolver(settings: try RoutingSettings(configuration.global, host: AddressResolverTests.host))
        return try VirtualAliasExpander(configuration.global, resolver: resolver)
    }

    @Test func expandsOneToManyAndRecursively() throws {
        let aliases = try expander("{ sales@example.net = ann@example.org, team@example.net }, { team@example.net = bob@example.org, carl@example.org }")
        #expect(try aliases.expand("sales@example.net") == ["ann@example.org", "bob@example.org", "carl@example.org"])
        #expect(try aliases.expand("other@example.net") == ["other@example.net"])
    }

    @Test func anAddressMayExpandToItselfOnce() throws {
        let aliases = try expander("{ list@example.net = list@example.net, copy@example.org }")
        #expect(try aliases.expand("list@example.net") == ["list@example.net", "copy@example.org"])
    }

    @Test func domainCatchAllsAndExtensions() throws {
        let aliases = try expander("{ @example.net = catch@example.org }, { user@example.net = real@example.org }")
        #expect(try aliases.expand("anyone@example.net") == ["catch@example.org"])
        // user+tag@ matches user@ with the extension carried over (propagate_unmatched_extensions).
        #expect(try aliases.expand("user+tag@example.net") == ["real+tag@example.org"])
        let noPropagation = try expander("{ user@example.net = real@example.org }", extra: "propagate_unmatched_extensions = canonical")
        #expect(try noPropagation.expand("user+tag@example.net") == ["real@example.org"])
    }

    @Test func bareUsersApplyOnlyToLocalDomainsAndResultsGetMyorigin() throws {
        let aliases = try expander("{ postmaster = admin }")
        #expect(try aliases.expand("postmaster@mx.example.com") == ["admin@mx.example.com"])
        #expect(try aliases.expand("postmaster@example.net") == ["postmaster@example.net"])
    }

    @Test func loopsAndExplosionsHitTheLimits() throws {
        let loop = try expander("{ a@example.net = b@example.net }, { b@example.net = a@example.net }", extra: "virtual_alias_recursion_limit = 10")
        #expect(throws: AliasExpansionError.self) { try loop.expand("a@example.net") }
        let wide = try expander("{ all@example.net = " + (1...20).map { "u\($0)@example.org" }.joined(separator: ", ") + " }", extra: "virtual_alias_expansion_limit = 5")
        #expect(throws: AliasExpansionError.self) { try wide.expand("all@example.net") }
    }
}
