import NIOCore
import SealpostDNS
import SealpostTestSupport
import Testing

@Suite("resolv.conf")
struct ResolverConfigurationTests {
    @Test("name servers, options, and what glibc ignores")
    func parsesLikeGlibc() throws {
        let configuration = ResolverConfiguration(text: """
            # a comment
            ; another comment
            search example.com example.net
            domain example.org
            nameserver 192.0.2.53
            nameserver not-an-address
            nameserver 2001:db8::53   # trailing comment
            nameserver\t198.51.100.53
            nameserver 203.0.113.53
            options ndots:3 timeout:3 attempts:4 rotate edns0
            sortlist 130.155.160.0/255.255.240.0
            """)
        #expect(configuration.servers == [
            try SocketAddress(ipAddress: "192.0.2.53", port: 53),
            try SocketAddress(ipAddress: "2001:db8::53", port: 53),
            try SocketAddress(ipAddress: "198.51.100.53", port: 53),
        ])
        #expect(configuration.timeout == .seconds(3))
        #expect(configuration.attempts == 4)
        #expect(configuration.rotate)
        #expect(configuration.ednsPayloadSize == 1232)
    }

    @Test("no nameserver line means 127.0.0.1, with glibc's timeout and attempts")
    func defaults() throws {
        for text in ["", "search example.com\n", "nameserver\n"] {
            let configuration = ResolverConfiguration(text: text)
            #expect(configuration.servers == [try SocketAddress(ipAddress: "127.0.0.1", port: 53)])
            #expect(configuration.timeout == .seconds(5))
            #expect(configuration.attempts == 2)
            #expect(!configuration.rotate)
        }
    }

    @Test("options out of range are clamped as glibc does")
    func clamping() {
        let high = ResolverConfiguration(text: "options timeout:99 attempts:99\n")
        #expect(high.timeout == .seconds(30))
        #expect(high.attempts == 5)
        let low = ResolverConfiguration(text: "options timeout:0 attempts:0\n")
        #expect(low.timeout == .seconds(1))
        #expect(low.attempts == 1)
        let bad = ResolverConfiguration(text: "options timeout:x attempts:-1\n")
        #expect(bad.timeout == .seconds(5))
        #expect(bad.attempts == 2)
    }

    @Test("read from a file; a missing file gives the defaults")
    func fromFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("resolv.conf", "nameserver 192.0.2.1\noptions timeout:1\n")
        let configuration = ResolverConfiguration.system(path: path)
        #expect(configuration.servers == [try SocketAddress(ipAddress: "192.0.2.1", port: 53)])
        #expect(configuration.timeout == .seconds(1))
        let missing = ResolverConfiguration.system(path: directory.path + "/none")
        #expect(missing.servers == [try SocketAddress(ipAddress: "127.0.0.1", port: 53)])
    }
}
