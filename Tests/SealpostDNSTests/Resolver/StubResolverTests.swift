import NIOCore
import NIOPosix
import SealpostDNS
import SealpostTestSupport
import Testing

/// The resolver against scripted servers: timeouts, spoofed and mismatched replies, failing
/// servers, TCP fallback, CNAME handling and the shape of the queries it sends.
@Suite("stub resolver against scripted servers")
struct StubResolverTests {
    static let a: UInt16 = 1
    static let cname: UInt16 = 5

    static func resolver(
        _ servers: [SocketAddress], timeout: TimeAmount = .seconds(30), attempts: Int = 2, rotate: Bool = false,
        payload: UInt16? = 1232
    ) -> StubResolver {
        StubResolver(
            configuration: ResolverConfiguration(
                servers: servers, timeout: timeout, attempts: attempts, rotate: rotate, ednsPayloadSize: payload))
    }

    static func answer(_ query: DNSMessage, _ address: [UInt8]) -> [UInt8] {
        Reply.to(query, answers: [(nil, a, address)])
    }

    @Test("a server that never answers: a temporary failure after the timeout, one try per attempt")
    func silentServer() async throws {
        try await ScriptedDNSServer.with(udp: { _ in [] }) { server in
            let resolver = Self.resolver([server.address], timeout: .milliseconds(200), attempts: 2)
            let answer = await resolver.addresses(of: "silent.example", families: [.ipv4])
            guard case .temporaryFailure(let reason) = answer else {
                Issue.record("expected a temporary failure, got \(answer)")
                return
            }
            #expect(reason.contains("timed out"), "\(reason)")
            #expect(waitUntil(timeout: 5) { server.received.count == 2 })
        }
    }

    @Test("replies with the wrong ID, from another port or for another question are ignored")
    func spoofedReplies() async throws {
        try await ScriptedDNSServer.with(udp: { query in
            [
                .init(bytes: Reply.to(query, id: query.header.id &+ 1, answers: [(nil, Self.a, [192, 0, 2, 66])])),
                .init(bytes: Self.answer(query, [192, 0, 2, 77]), fromOtherPort: true),
                .init(bytes: Reply.to(query, question: "other.example", answers: [(nil, Self.a, [192, 0, 2, 88])])),
                .init(bytes: Array(Self.answer(query, [192, 0, 2, 99]).prefix(5))),
                .init(bytes: Self.answer(query, [192, 0, 2, 1]), delay: .milliseconds(100)),
            ]
        }) { server in
            let answer = await Self.resolver([server.address]).addresses(of: "host.example", families: [.ipv4])
            #expect(answer == .found(["192.0.2.1"], authenticated: false))
        }
    }

    @Test("SERVFAIL from the first server, the answer from the second")
    func servfailThenGood() async throws {
        try await ScriptedDNSServer.with(udp: { query in [.init(bytes: Reply.to(query, responseCode: 2))] }) { failing in
            try await ScriptedDNSServer.with(udp: { query in [.init(bytes: Self.answer(query, [192, 0, 2, 2]))] }) { good in
                let resolver = Self.resolver([failing.address, good.address], attempts: 2)
                let answer = await resolver.addresses(of: "host.example", families: [.ipv4])
                #expect(answer == .found(["192.0.2.2"], authenticated: false))
                #expect(failing.received.count == 1)
                #expect(good.received.count == 1)
            }
        }
    }

    @Test("every server failing: SERVFAIL is temporary, REFUSED alone is permanent")
    func allServersFail() async throws {
        try await ScriptedDNSServer.with(udp: { query in [.init(bytes: Reply.to(query, responseCode: 2))] }) { first in
            try await ScriptedDNSServer.with(udp: { query in [.init(bytes: Reply.to(query, responseCode: 5))] }) { second in
                let mixed = await Self.resolver([first.address, second.address]).mailExchangers(of: "example.test")
                guard case .temporaryFailure(let reason) = mixed else {
                    Issue.record("expected a temporary failure, got \(mixed)")
                    return
                }
                #expect(reason.contains("SERVFAIL") && reason.contains("REFUSED"), "\(reason)")
                #expect(first.received.count == 1, "a server that answered SERVFAIL is not asked again")

                let refused = await Self.resolver([second.address]).mailExchangers(of: "example.test")
                guard case .permanentFailure(let refusal) = refused else {
                    Issue.record("expected a permanent failure, got \(refused)")
                    return
                }
                #expect(refusal.contains("REFUSED"), "\(refusal)")
            }
        }
    }

    @Test("a malformed reply is a permanent failure that names the problem")
    func malformedReply() async throws {
        try await ScriptedDNSServer.with(udp: { query in
            [.init(bytes: Reply.to(query, answers: [(nil, Self.a, [192, 0, 2, 1, 5])]))]
        }) { server in
            let answer = await Self.resolver([server.address]).addresses(of: "host.example", families: [.ipv4])
            guard case .permanentFailure(let reason) = answer else {
                Issue.record("expected a permanent failure, got \(answer)")
                return
            }
            #expect(reason.contains("malformed") && reason.contains("instead of 4"), "\(reason)")
        }
    }

    @Test("a truncated UDP reply is asked again over TCP")
    func truncatedGoesToTCP() async throws {
        try await ScriptedDNSServer.with(
            udp: { query in [.init(bytes: Reply.to(query, flags: 0x0200))] },
            tcp: { query in Self.answer(query, [192, 0, 2, 3]) }
        ) { server in
            let answer = await Self.resolver([server.address]).addresses(of: "big.example", families: [.ipv4])
            #expect(answer == .found(["192.0.2.3"], authenticated: false))
            #expect(server.received.map(\.overTCP) == [false, true])
        }
    }

    @Test("queries: a new ID and a new source port each time, RD and AD set, EDNS0 with the configured size")
    func queryShape() async throws {
        try await ScriptedDNSServer.with(udp: { query in [.init(bytes: Self.answer(query, [192, 0, 2, 4]))] }) { server in
            let resolver = Self.resolver([server.address], payload: 1400)
            for _ in 0..<4 {
                #expect(await resolver.addresses(of: "host.example", families: [.ipv4]) == .found(["192.0.2.4"], authenticated: false))
            }
            let queries = server.received
            #expect(queries.count == 4)
            #expect(Set(queries.map(\.message.header.id)).count > 1)
            #expect(Set(queries.map(\.source.port)).count > 1)
            for query in queries {
                #expect(query.message.header.flags == 0x0120)
                #expect(query.message.additional.map(\.data) == [.opt(payloadSize: 1400, options: [])])
            }
        }
    }

    @Test("servers in order, or spread out with rotate")
    func rotation() async throws {
        try await ScriptedDNSServer.with(udp: { query in [.init(bytes: Self.answer(query, [192, 0, 2, 5]))] }) { first in
            try await ScriptedDNSServer.with(udp: { query in [.init(bytes: Self.answer(query, [192, 0, 2, 6]))] }) { second in
                let ordered = Self.resolver([first.address, second.address])
                for _ in 0..<3 { _ = await ordered.addresses(of: "host.example", families: [.ipv4]) }
                #expect(first.received.count == 3)
                #expect(second.received.isEmpty)

                let rotating = Self.resolver([first.address, second.address], rotate: true)
                var seen: Set<String> = []
                for _ in 0..<4 {
                    if case .found(let addresses, _) = await rotating.addresses(of: "host.example", families: [.ipv4]) {
                        seen.formUnion(addresses)
                    }
                }
                #expect(seen == ["192.0.2.5", "192.0.2.6"])
            }
        }
    }

    @Test("a CNAME the server did not follow is asked for; a CNAME loop is an error")
    func cnames() async throws {
        try await ScriptedDNSServer.with(udp: { query in
            switch query.questions.first!.name.description {
            case "alias.example": [.init(bytes: Reply.to(query, answers: [(nil, Self.cname, Reply.name("host.example"))]))]
            case "host.example": [.init(bytes: Self.answer(query, [192, 0, 2, 7]))]
            default: [.init(bytes: Reply.to(query, answers: [
                (nil, Self.cname, Reply.name("loop2.example")),
                ("loop2.example", Self.cname, Reply.name("loop1.example")),
            ]))]
            }
        }) { server in
            let resolver = Self.resolver([server.address])
            #expect(await resolver.addresses(of: "alias.example", families: [.ipv4]) == .found(["192.0.2.7"], authenticated: false))
            // Exactly these questions, in this order; a machine too loaded to answer within the
            // timeout may make the resolver ask again, which is not what this test is about.
            let asked = server.received.map(\.message.questions.first!.name.description)
            #expect(Array(asked.prefix(2)) == ["alias.example", "host.example"] && Set(asked) == ["alias.example", "host.example"], "\(asked)")
            let loop = await resolver.addresses(of: "loop1.example", families: [.ipv4])
            guard case .permanentFailure(let reason) = loop else {
                Issue.record("expected a permanent failure, got \(loop)")
                return
            }
            #expect(reason.contains("CNAME loop"), "\(reason)")
        }
    }

    @Test("FORMERR to a query with EDNS: asked again without it")
    func ednsFallback() async throws {
        try await ScriptedDNSServer.with(udp: { query in
            query.additional.isEmpty
                ? [.init(bytes: Self.answer(query, [192, 0, 2, 8]))] : [.init(bytes: Reply.to(query, responseCode: 1))]
        }) { server in
            let answer = await Self.resolver([server.address]).addresses(of: "old.example", families: [.ipv4])
            #expect(answer == .found(["192.0.2.8"], authenticated: false))
            // With EDNS first, then without; a loaded machine may repeat the pair after a timeout.
            let additional = server.received.map(\.message.additional.count)
            #expect(Array(additional.prefix(2)) == [1, 0] && additional.count % 2 == 0, "\(additional)")
        }
        try await ScriptedDNSServer.with(udp: { query in [.init(bytes: Reply.to(query, responseCode: 1))] }) { server in
            let answer = await Self.resolver([server.address]).addresses(of: "broken.example", families: [.ipv4])
            guard case .permanentFailure(let reason) = answer else {
                Issue.record("expected a permanent failure, got \(answer)")
                return
            }
            #expect(reason.contains("FORMERR"), "\(reason)")
            #expect(server.received.count == 2)
        }
    }

    @Test("an IPv6 server, asked from an IPv6 socket")
    func ipv6Server() async throws {
        let loopback = try SocketAddress(ipAddress: "::1", port: 0)
        guard (try? await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(to: loopback).get().close()) != nil else {
            // No IPv6 loopback on this machine: nothing to test.
            return
        }
        try await ScriptedDNSServer.with(host: "::1", udp: { query in [.init(bytes: Self.answer(query, [192, 0, 2, 10]))] }) { server in
            #expect(server.address.protocol == .inet6)
            let answer = await Self.resolver([server.address]).addresses(of: "host.example", families: [.ipv4])
            #expect(answer == .found(["192.0.2.10"], authenticated: false))
        }
    }

    @Test("an invalid name fails without asking anyone")
    func invalidName() async throws {
        try await ScriptedDNSServer.with(udp: { _ in [] }) { server in
            let resolver = Self.resolver([server.address])
            guard case .permanentFailure(let reason) = await resolver.mailExchangers(of: "a..example") else {
                Issue.record("an empty label was accepted")
                return
            }
            #expect(reason.contains("empty label"))
            guard case .permanentFailure = await resolver.addresses(of: String(repeating: "x", count: 64), families: [.ipv4]) else {
                Issue.record("a 64-byte label was accepted")
                return
            }
            #expect(server.received.isEmpty)
        }
    }
}
