import NIOCore
import SealpostDNS
import Testing

/// The resolver against a real recursive server, unbound, serving a static zone.
@Suite("stub resolver against unbound")
struct UnboundTests {
    static let tlsaDigest = "8755cdaa8fe24ef16cc0f2c918063185e433faaf1415664911d9e30a924138c4"

    static let zone: [String] = [
        "example.test. 300 IN MX 20 mx2.example.test.",
        "example.test. 300 IN MX 10 mx1.example.test.",
        "example.test. 300 IN MX 10 mx1b.example.test.",
        "example.test. 300 IN MX 30 mx3.example.test.",
        "mx1.example.test. 300 IN A 192.0.2.1",
        "mx1.example.test. 300 IN A 192.0.2.2",
        "mx1.example.test. 300 IN AAAA 2001:db8::1",
        "mx2.example.test. 300 IN AAAA 2001:db8::2",
        "mx3.example.test. 300 IN A 192.0.2.3",
        "_25._tcp.mx1.example.test. 300 IN TLSA 3 1 1 \(tlsaDigest)",
        "nullmx.test. 300 IN MX 0 .",
        "nomx.test. 300 IN A 192.0.2.9",
        "alias.test. 300 IN CNAME mx1.example.test.",
    ] + (1...60).map { "big.test. 300 IN A 198.51.100.\($0)" }

    static func withResolver(
        payload: UInt16? = 1232, _ body: (StubResolver) async throws -> Void
    ) async throws {
        guard let binary = UnboundServer.binary() else { return }
        try await UnboundServer.with(binary: binary, localData: zone) { server in
            let resolver = StubResolver(
                configuration: ResolverConfiguration(
                    servers: [server.address], timeout: .seconds(10), attempts: 2, ednsPayloadSize: payload))
            try await body(resolver)
        }
    }

    @Test("MX records by preference, equal preferences shuffled")
    func mxOrder() async throws {
        try await Self.withResolver { resolver in
            var firsts: Set<String> = []
            for _ in 0..<40 {
                guard case .found(let exchangers, let authenticated) = await resolver.mailExchangers(of: "example.test") else {
                    Issue.record("no MX records for example.test")
                    return
                }
                #expect(!authenticated)
                #expect(exchangers.map(\.preference) == [10, 10, 20, 30])
                #expect(Set(exchangers.prefix(2).map(\.host)) == ["mx1.example.test", "mx1b.example.test"])
                #expect(exchangers.suffix(2).map(\.host) == ["mx2.example.test", "mx3.example.test"])
                firsts.insert(exchangers[0].host)
            }
            #expect(firsts.count == 2, "equal preferences were never shuffled")
        }
    }

    @Test("addresses in the order of the families asked for")
    func addresses() async throws {
        try await Self.withResolver { resolver in
            guard case .found(let both, _) = await resolver.addresses(of: "mx1.example.test", families: [.ipv6, .ipv4]) else {
                Issue.record("no addresses for mx1.example.test")
                return
            }
            #expect(both.first == "2001:db8::1")
            #expect(Set(both.dropFirst()) == ["192.0.2.1", "192.0.2.2"])
            #expect(both.count == 3)
            guard case .found(let v4First, _) = await resolver.addresses(of: "MX1.Example.TEST.", families: [.ipv4, .ipv6]) else {
                Issue.record("no addresses for MX1.Example.TEST.")
                return
            }
            #expect(v4First.last == "2001:db8::1")
            #expect(await resolver.addresses(of: "mx1.example.test", families: [.ipv4]).addressSet == ["192.0.2.1", "192.0.2.2"])
            #expect(await resolver.addresses(of: "mx2.example.test", families: [.ipv4, .ipv6]) == .found(["2001:db8::2"], authenticated: false))
            #expect(await resolver.addresses(of: "mx2.example.test", families: [.ipv4]) == .notFound)
        }
    }

    @Test("null MX, no MX (implicit MX is the client's), no such domain")
    func outcomes() async throws {
        try await Self.withResolver { resolver in
            #expect(await resolver.mailExchangers(of: "nullmx.test") == .nullMX)
            #expect(await resolver.mailExchangers(of: "nomx.test") == .notFound)
            #expect(await resolver.addresses(of: "nomx.test", families: [.ipv4, .ipv6]) == .found(["192.0.2.9"], authenticated: false))
            #expect(await resolver.mailExchangers(of: "missing.test") == .notFound)
            #expect(await resolver.addresses(of: "missing.test", families: [.ipv4, .ipv6]) == .notFound)
        }
    }

    @Test("a CNAME is followed to the addresses of its target")
    func cname() async throws {
        try await Self.withResolver { resolver in
            #expect(await resolver.addresses(of: "alias.test", families: [.ipv4]).addressSet == ["192.0.2.1", "192.0.2.2"])
            #expect(await resolver.addresses(of: "alias.test", families: [.ipv6]) == .found(["2001:db8::1"], authenticated: false))
        }
    }

    @Test("TLSA records of a service")
    func tlsa() async throws {
        try await Self.withResolver { resolver in
            let answer = await resolver.tlsaRecords(port: 25, protocol: "tcp", host: "mx1.example.test")
            let digest = stride(from: 0, to: Self.tlsaDigest.count, by: 2).map { offset -> UInt8 in
                let start = Self.tlsaDigest.index(Self.tlsaDigest.startIndex, offsetBy: offset)
                return UInt8(Self.tlsaDigest[start...Self.tlsaDigest.index(after: start)], radix: 16)!
            }
            #expect(answer == .found([DNSTLSARecord(usage: 3, selector: 1, matchingType: 1, data: digest)], authenticated: false))
            #expect(await resolver.tlsaRecords(port: 25, protocol: "tcp", host: "mx2.example.test") == .notFound)
            // Through the protocol, as the SMTP client calls it: the resolver's own lookup, not the default.
            let generic: any MailDNSResolver = resolver
            #expect(await generic.tlsaRecords(port: 25, protocol: "tcp", host: "mx1.example.test") == answer)
        }
    }

    @Test("an answer too big for a 512-byte UDP payload comes over TCP")
    func truncationFallsBackToTCP() async throws {
        try await Self.withResolver(payload: 512) { resolver in
            let answer = await resolver.addresses(of: "big.test", families: [.ipv4])
            #expect(answer.addressSet == Set((1...60).map { "198.51.100.\($0)" }))
        }
    }
}

extension DNSAnswer where Records == [String] {
    /// The addresses found, as a set (the server's order within one family is its own).
    var addressSet: Set<String>? {
        if case .found(let addresses, _) = self { Set(addresses) } else { nil }
    }
}
