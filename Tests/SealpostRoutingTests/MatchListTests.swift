import SealpostConfig
import SealpostTestSupport
import Testing

@testable import SealpostRouting

@Suite struct MatchListTests {
    @Test func exactListsMatchWholeNamesOnly() throws {
        let list = try MatchList(parameter: "mydestination", value: "example.com, Localhost", style: .exact)
        #expect(try list.matches("example.com"))
        #expect(try list.matches("EXAMPLE.com"))
        #expect(try list.matches("localhost"))
        #expect(try !list.matches("sub.example.com"))
    }

    @Test func domainListsFollowParentDomainMatching() throws {
        let parent = try MatchList(parameter: "relay_domains", value: "example.com", style: .domain(parentMatchesSubdomains: true))
        #expect(try parent.matches("example.com") && parent.matches("a.b.example.com"))
        #expect(try !parent.matches("badexample.com"))
        let dotted = try MatchList(parameter: "relay_domains", value: "example.com .example.org", style: .domain(parentMatchesSubdomains: false))
        #expect(try dotted.matches("example.com") && !dotted.matches("a.example.com"))
        #expect(try dotted.matches("a.example.org") && !dotted.matches("example.org"))
    }

    @Test func negationStopsTheSearch() throws {
        let list = try MatchList(parameter: "relay_domains", value: "!spam.example.com, example.com", style: .domain(parentMatchesSubdomains: true))
        #expect(try !list.matches("spam.example.com"))
        #expect(try list.matches("good.example.com"))
    }

    @Test func tablesAndFilesAreSearched() throws {
        let directory = try TemporaryDirectory()
        let domains = try directory.write("domains", "# ours\nexample.net  OK\n")
        let patterns = try directory.write("patterns", "# more\nexample.org, other.org\n  third.org\n")
        let list = try MatchList(
            parameter: "relay_domains", value: "hash:\(domains), \(patterns)", style: .domain(parentMatchesSubdomains: true))
        #expect(try list.matches("example.net") && list.matches("sub.example.net"))
        #expect(try list.matches("other.org") && list.matches("third.org"))
        #expect(try !list.matches("nothere.org"))
        #expect(throws: MatchListError.self) { try MatchList(parameter: "relay_domains", value: "/no/such/file", style: .exact) }
        #expect(throws: MatchListError.self) { try MatchList(parameter: "relay_domains", value: "ldap:/x", style: .exact) }
    }
}
