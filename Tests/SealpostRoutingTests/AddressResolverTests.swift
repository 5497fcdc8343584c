import SealpostConfig
import Testing

@testable import SealpostRouting

/// The resolver's relay-relevant answers. Every relay trick must resolve to the remote
/// destination (class default, not final), never to ours.
@Suite struct AddressResolverTests {
    static let host = HostFacts(
        hostname: "mx",
        interfaceAddresses: [
            .init(address: "127.0.0.1", prefixLength: 8, isIPv6: false),
            .init(address: "192.0.2.2", prefixLength: 24, isIPv6: false),
            .init(address: "::1", prefixLength: 128, isIPv6: true),
        ],
        processID: 1)

    static func resolver(_ extra: String = "") throws -> AddressResolver {
        let text = """
            myhostname = mx.example.com
            mydomain = example.com
            mydestination = $myhostname, localhost.$mydomain, localhost, example.com
            virtual_mailbox_domains = virtual.example
            virtual_alias_domains = alias.example
            relay_domains = relayed.example
            \(extra)
            """
        let configuration = Configuration(
            directory: "/etc/sealpost", main: MainConfFile(path: "main.cf", bytes: Array(text.utf8)),
            master: MasterConfFile(path: "master.cf", bytes: []), host: host)
        return AddressResolver(settings: try RoutingSettings(configuration.global, host: host))
    }

    @Test(arguments: [
        ("user@example.com", "user@example.com", AddressResolver.AddressClass.local, "local"),
        ("user@mx.example.com", "user@mx.example.com", .local, "local"),
        ("user@localhost", "user@localhost", .local, "local"),
        ("user@EXAMPLE.COM", "user@EXAMPLE.COM", .local, "local"),
        ("user@example.com.", "user@example.com", .local, "local"),
        ("postmaster", "postmaster@mx.example.com", .local, "local"),
        ("user@[192.0.2.2]", "user@[192.0.2.2]", .local, "local"),
        ("user@[127.0.0.1]", "user@[127.0.0.1]", .local, "local"),
        ("user@[IPv6:::1]", "user@[IPv6:::1]", .local, "local"),
        ("box@virtual.example", "box@virtual.example", .virtual, "virtual"),
        ("x@alias.example", "x@alias.example", .alias, "error"),
        ("x@relayed.example", "x@relayed.example", .relay, "relay"),
        ("x@sub.relayed.example", "x@sub.relayed.example", .relay, "relay"),
        ("user@remote.net", "user@remote.net", .default, "smtp"),
    ])
    func classifiesDestinations(_ address: String, _ recipient: String, _ addressClass: AddressResolver.AddressClass, _ transport: String) throws {
        let resolution = try Self.resolver().resolve(address)
        #expect(resolution.recipient == recipient)
        #expect(resolution.addressClass == addressClass)
        #expect(resolution.transport == transport)
        #expect(!resolution.isInvalid)
    }

    /// The relay tricks: each one names our domain but must resolve to remote.net.
    @Test(arguments: [
        "user%remote.net@example.com",  // percent hack
        "remote.net!user@example.com",  // bang path
        "user@remote.net@example.com",  // quoted local part "user@remote.net"
        "user%remote.net@[192.0.2.2]",  // percent hack through our address literal
        "user@remote.net@[192.0.2.2]",
        "user%remote.net%example.com@example.com",  // nested percent
        "user@remote.net@localhost",
        "remote.net!user@mx.example.com.",
        "user%remote.net.@example.com",
        "@example.com:user@remote.net@example.com",  // source route inside a quoted local part
    ])
    func relayTricksResolveToTheRemoteDomain(_ address: String) throws {
        let resolution = try Self.resolver().resolve(address)
        #expect(resolution.addressClass == .default, "\(address) → \(resolution)")
        #expect(!resolution.addressClass.isFinal)
        #expect(resolution.recipient.hasSuffix("@remote.net"), "\(address) → \(resolution.recipient)")
    }

    @Test func withoutDequotingAQuotedAtStaysLocalButRouted() throws {
        let resolution = try Self.resolver("resolve_dequoted_address = no").resolve("user@remote.net@example.com")
        #expect(resolution.addressClass == .local)
        #expect(resolution.isRouted)
    }

    @Test func withoutThePercentHackThePercentStaysButIsRouted() throws {
        let resolution = try Self.resolver("allow_percent_hack = no").resolve("user%remote.net@example.com")
        #expect(resolution.addressClass == .local)
        #expect(resolution.recipient == "user%remote.net@example.com")
        #expect(resolution.isRouted)
    }

    @Test func numericDomainsAreInvalidUnlessAllowed() throws {
        #expect(try Self.resolver().resolve("user@192.0.2.2").isInvalid)
        let allowed = try Self.resolver("resolve_numeric_domain = yes").resolve("user@192.0.2.2")
        #expect(!allowed.isInvalid)
        #expect(allowed.recipient == "user@[192.0.2.2]")
        #expect(allowed.addressClass == .local)
    }

    @Test func relayhostAndTransportMapsSetTheNextHop() throws {
        var resolution = try Self.resolver("relayhost = [smarthost.example.net]:587").resolve("user@remote.net")
        #expect(resolution.transport == "smtp" && resolution.nexthop == "[smarthost.example.net]:587")
        resolution = try Self.resolver("transport_maps = inline:{ remote.net=relay:[10.0.0.1], .sub.net=lmtp:unix:/x, *=smtp:[fallback] }")
            .resolve("user@remote.net")
        #expect(resolution.transport == "relay" && resolution.nexthop == "[10.0.0.1]")
        resolution = try Self.resolver("transport_maps = inline:{ .sub.net=lmtp:unix:/x }").resolve("user@a.sub.net")
        #expect(resolution.transport == "lmtp" && resolution.nexthop == "unix:/x")
        resolution = try Self.resolver("transport_maps = inline:{ *=error:gone }").resolve("user@elsewhere.org")
        #expect(resolution.transport == "error" && resolution.nexthop == "gone")
        resolution = try Self.resolver("transport_maps = inline:{ elsewhere.org=discard }").resolve("user@elsewhere.org")
        #expect(resolution.transport == "discard" && resolution.nexthop == "elsewhere.org")
    }

    @Test func addressesStartingWithAHyphenAreInvalid() throws {
        #expect(try Self.resolver().resolve("-oops@example.com").isInvalid)
        #expect(try !Self.resolver("allow_min_user = yes").resolve("-oops@example.com").isInvalid)
    }

    @Test func addressLiteralsAndHostnamesAreChecked() {
        #expect(AddressResolver.isValidAddressLiteral("[192.0.2.1]"))
        #expect(AddressResolver.isValidAddressLiteral("[IPv6:2001:db8::1]"))
        #expect(!AddressResolver.isValidAddressLiteral("[999.0.0.1]"))
        #expect(!AddressResolver.isValidAddressLiteral("[2001:db8::1]"))
        #expect(AddressResolver.isValidHostname("mail.example.com"))
        #expect(AddressResolver.isValidHostname("bücher.example"))
        #expect(!AddressResolver.isValidHostname("-bad.example"))
        #expect(!AddressResolver.isValidHostname("a..b"))
        #expect(!AddressResolver.isValidHostname("192.0.2.1"))
    }
}
