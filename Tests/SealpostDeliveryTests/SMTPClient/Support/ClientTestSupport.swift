import Foundation
import Logging
import NIOCore
import NIOPosix
import SealpostConfig
import SealpostDNS
import SealpostQueue
import SealpostTestSupport
import Synchronization
import Testing

@testable import SealpostDelivery

/// The real programs the client is tested against (Debian packages).
typealias ClientPeer = PeerProgram

/// A child process in its own process group, killed (with its children) by ``stop()`` or deinit,
/// so that a failing test leaves nothing running.
final class ChildProcess: @unchecked Sendable {
    let process = Process()

    init(_ executable: String, _ arguments: [String], output: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        if let output {
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        setpgid(process.processIdentifier, process.processIdentifier)
    }

    var isRunning: Bool { process.isRunning }

    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        if getpgid(pid) == pid { kill(-pid, SIGKILL) } else { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A free TCP port on 127.0.0.1 (bound and released; the caller binds it next).
func freePort() throws -> Int { try freeLoopbackPort() }

/// Waits until something accepts connections on 127.0.0.1:`port`.
func waitForListener(port: Int, timeout: Double = 20) -> Bool { waitForLoopbackListener(port: port, timeout: timeout) }

/// DNS answers from a table: what the real resolver would say for the test's names.
struct FakeResolver: MailDNSResolver {
    var exchangers: [String: DNSAnswer<[MailExchanger]>] = [:]
    var hosts: [String: DNSAnswer<[String]>] = [:]

    func mailExchangers(of domain: String) async -> DNSAnswer<[MailExchanger]> {
        exchangers[domain] ?? .notFound
    }

    func addresses(of host: String, families: [AddressFamily]) async -> DNSAnswer<[String]> {
        hosts[host] ?? .notFound
    }

    /// `example.com` with one MX host, `mx.example.com` at 127.0.0.1.
    static let loopbackMX = FakeResolver(
        exchangers: ["example.com": .found([MailExchanger(preference: 10, host: "mx.example.com")], authenticated: false)],
        hosts: ["mx.example.com": .found(["127.0.0.1"], authenticated: false)])
}


/// The service configuration of main.cf text (and master.cf, for a named service).
func clientConfiguration(_ main: String, master: String = "", service: String? = nil, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> ServiceConfiguration {
    let configuration = Configuration(
        directory: "/etc/sealpost",
        main: MainConfFile(path: "/etc/sealpost/main.cf", bytes: Array(("myhostname = client.example.org\n" + main).utf8)),
        master: MasterConfFile(path: "/etc/sealpost/master.cf", bytes: Array(master.utf8)),
        host: HostFacts(hostname: "test", interfaceAddresses: [], processID: 1))
    let errors = configuration.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "configuration errors: \(errors)", sourceLocation: sourceLocation)
    if let service { return configuration.service(service)! }
    return configuration.global
}

/// A message in a throwaway queue, and delivery requests for it.
final class QueuedTestMessage: @unchecked Sendable {
    let directory: TemporaryDirectory
    let store: QueueStore
    let id: QueueID
    let envelope: QueueEnvelope
    let content: String

    init(sender: String = "sender@client.example.org", recipients: [String], content: String, envelope change: (inout QueueEnvelope) -> Void = { _ in }) async throws {
        directory = try TemporaryDirectory()
        store = try QueueStore(configuration: QueueConfiguration(directory: directory.path + "/queue"))
        var envelope = QueueEnvelope(sender: sender, recipients: recipients.map { QueueRecipient(address: $0) })
        change(&envelope)
        let writer = try store.makeWriter(envelope: envelope)
        try writer.append(content)
        id = try await store.commit(writer)
        self.envelope = envelope
        self.content = content
    }

    /// A request for this message; `arrival` defaults to long ago (a message that has waited).
    func request(
        transport: String = "smtp", nexthop: String, only indices: [Int]? = nil, arrival: QueueTimestamp = QueueTimestamp(seconds: 0)
    ) throws -> DeliveryRequest {
        let store = store
        let id = id
        let recipients = envelope.recipients.enumerated()
            .filter { indices?.contains($0.offset) ?? true }
            .map {
                DeliveryRequest.Recipient(
                    index: $0.offset, address: $0.element.address, notify: $0.element.notify,
                    originalRecipient: $0.element.originalRecipient)
            }
        return DeliveryRequest(
            queueID: id, transport: transport, nexthop: nexthop, sender: envelope.sender, recipients: recipients,
            envelope: envelope, arrival: arrival, contentLength: content.utf8.count,
            openContent: { () throws(QueueError) -> MessageContentReader in
                // The reader outlives the handle, so that the message is not held open between requests.
                let message = try store.open(id)
                defer { message.close() }
                return try message.content()
            })
    }
}

/// An agent on a shared event loop group, for main.cf text.
func makeAgent(
    _ main: String, prefix: String = "smtp", resolver: FakeResolver = .loopbackMX, log: RecordingLog = RecordingLog()
) throws -> SMTPDeliveryAgent {
    let settings = try SMTPClientSettings(clientConfiguration(main), prefix: prefix)
    return try SMTPDeliveryAgent(
        settings: settings, resolver: resolver, group: MultiThreadedEventLoopGroup.singleton, logger: log.logger)
}
