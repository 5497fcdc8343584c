import Foundation
import NIOCore
import NIOPosix
import SealpostDNS
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

/// The agent with the real stub resolver against a real unbound serving a `test.` zone: MX hosts in
/// preference order with fallback when the first refuses, the implicit MX, and null MX.
@Suite("SMTP client with MX lookups from unbound", .serialized)
struct UnboundMXTests {
    /// unbound (Debian package unbound) in the foreground on a random port of 127.0.0.1.
    final class Unbound {
        let directory: TemporaryDirectory
        let port: Int
        let process: ChildProcess

        init?(localData: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            guard let executable = ClientPeer.require("unbound", package: "unbound", sourceLocation: sourceLocation) else { return nil }
            directory = try TemporaryDirectory()
            // Free for UDP too, most likely: unbound binds both.
            port = try freePort()
            try """
                server:
                    interface: 127.0.0.1@\(port)
                    port: \(port)
                    do-ip6: no
                    do-daemonize: no
                    chroot: ""
                    username: ""
                    directory: "\(directory.path)"
                    pidfile: "\(directory.path)/unbound.pid"
                    logfile: "\(directory.path)/unbound.log"
                    use-syslog: no
                    num-threads: 1
                    so-reuseport: no
                    access-control: 127.0.0.0/8 allow
                    module-config: "iterator"
                    local-zone: "test." static
                \(localData.map { "    local-data: \"\($0)\"" }.joined(separator: "\n"))
                remote-control:
                    control-enable: no

                """.write(toFile: directory.path + "/unbound.conf", atomically: false, encoding: .utf8)
            process = try ChildProcess(executable, ["-d", "-c", directory.path + "/unbound.conf"])
            let log = directory.path + "/unbound.log"
            guard waitUntil(timeout: 20, {
                !process.isRunning || ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("start of service")
            }), process.isRunning else {
                throw FixtureError("unbound did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
        }

        deinit { process.stop() }

        var resolver: StubResolver {
            StubResolver(configuration: ResolverConfiguration(
                servers: [try! SocketAddress(ipAddress: "127.0.0.1", port: port)], timeout: .seconds(3), attempts: 2))
        }
    }

    @Test("preference order with fallback when the best MX refuses; implicit MX; null MX bounces")
    func mxFromUnbound() async throws {
        guard let sink = try SMTPSinkTests.Sink() else { return }
        guard let unbound = try Unbound(localData: [
            "relay.test. MX 20 mx2.relay.test.", "relay.test. MX 10 mx1.relay.test.",
            "mx1.relay.test. A 127.0.0.2", "mx2.relay.test. A 127.0.0.1",
            "plain.test. A 127.0.0.1",
            "null.test. MX 0 .",
        ]) else { return }
        let log = RecordingLog()
        let settings = try SMTPClientSettings(clientConfiguration("smtp_connection_cache_on_demand = no\ninet_protocols = ipv4\n"))
        let agent = try SMTPDeliveryAgent(
            settings: settings, resolver: unbound.resolver, group: MultiThreadedEventLoopGroup.singleton, logger: log.logger)
        let message = try await QueuedTestMessage(recipients: ["b@relay.test"], content: SMTPSinkTests.message)

        let relayed = try #require(await agent.deliver(try message.request(nexthop: "relay.test:\(sink.port)")).results.first)
        #expect(relayed.status == .sent, "\(relayed)")
        #expect(relayed.relay == "mx2.relay.test[127.0.0.1]:\(sink.port)")
        #expect(log.messages.contains("info: connect to mx1.relay.test[127.0.0.2]:\(sink.port): Connection refused"), "\(log.messages)")

        let implicit = try #require(await agent.deliver(try message.request(nexthop: "plain.test:\(sink.port)")).results.first)
        #expect(implicit.status == .sent)
        #expect(implicit.relay == "plain.test[127.0.0.1]:\(sink.port)")

        let null = try #require(await agent.deliver(try message.request(nexthop: "null.test")).results.first)
        #expect(null.status == .bounced)
        #expect(null.text == "Domain null.test does not accept mail (nullMX)")
    }
}
