// The whole smtpd session in memory: SMTPServerSession with the access policy, SASL (passwd-file),
// virtual alias expansion and a real queue in a throwaway directory, fed arbitrary client bytes in
// pieces over an NIOAsyncTestingChannel. TLS is off: STARTTLS needs a TLS peer, which this does not have.
import Dispatch
import Foundation
import FuzzDriver
import Logging
import NIOCore
import NIOEmbedded
import SealpostConfig
import SealpostLog
import SealpostPolicy
import SealpostQueue
import SealpostSASL
@testable import SealpostServer
import Synchronization

/// Everything the sessions share, made once per process.
final class Harness: Sendable {
    let directory: String
    let queueDirectory: String
    let context: SMTPServiceContext

    init(directory: String) {
        self.directory = directory
        queueDirectory = directory + "/queue"
        try! FileManager.default.createDirectory(atPath: queueDirectory, withIntermediateDirectories: true)
        try! "alice@example.com:{PLAIN}secret\n".write(toFile: directory + "/passwd", atomically: true, encoding: .utf8)
        let mainCF = """
            queue_directory = \(queueDirectory)
            config_directory = \(directory)
            myhostname = mail.example.com
            mydomain = example.com
            mydestination = $myhostname, localhost.$mydomain, localhost
            mynetworks = 10.0.0.0/8
            virtual_mailbox_domains = virtual.example
            virtual_mailbox_maps = inline:{ user@virtual.example=virtual.example/user/ }
            virtual_alias_maps = inline:{ alias@example.com=user@virtual.example, list@example.com={a@virtual.example, b@virtual.example} }
            smtpd_error_sleep_time = 0
            smtpd_tls_security_level = none
            smtpd_sasl_auth_enable = yes
            smtpd_sasl_type = passwd-file
            smtpd_sasl_path = \(directory)/passwd
            smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
            smtpd_helo_required = yes
            message_size_limit = 4096
            smtpd_recipient_limit = 20
            line_length_limit = 512
            queue_minfree = 0

            """
        let masterCF = "smtp inet n - y - - smtpd\n"
        let configuration = Configuration(
            directory: directory,
            main: MainConfFile(path: directory + "/main.cf", bytes: Array(mainCF.utf8)),
            master: MasterConfFile(path: directory + "/master.cf", bytes: Array(masterCF.utf8)),
            host: HostFacts(hostname: "mail.example.com", interfaceAddresses: [], processID: Int(getpid())))
        let errors = configuration.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let service = configuration.services.first else {
            fatalError("the session fuzzer's configuration is wrong: \(errors)")
        }
        let queue = try! QueueStore(
            configuration: QueueConfiguration(directory: queueDirectory, messageSizeLimit: 4096),
            logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() })
        let sink = try! LogSink(destination: .file(path: "/dev/null", permissions: 0o600), hostname: "mail.example.com")
        context = try! MailServices.makeContext(
            for: service, key: "smtp/inet", configuration: configuration, queue: queue,
            authThrottle: SharedAuthenticationThrottle(policy: AuthenticationThrottle.Policy(configuration: service)),
            sink: sink, onCommitted: { _ in committedMessages.add(1, ordering: .relaxed) }, onFlush: { _ in })
    }

    /// Removes the messages the sessions queued, so the directory does not grow.
    func emptyQueue() {
        guard let walker = FileManager.default.enumerator(atPath: queueDirectory) else { return }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = queueDirectory + "/" + path
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(full)
            }
        }
        for file in files { unlink(file) }
    }
}

/// The throwaway directory: on tmpfs where there is one, as the queue fsyncs every message it accepts.
let harnessDirectory =
    (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    + "/sealpost-fuzz-session-\(getpid())"
let harness: Harness = {
    // The directory goes when libFuzzer exits (a crash leaves it, for a look).
    atexit { try? FileManager.default.removeItem(atPath: harnessDirectory) }
    return Harness(directory: harnessDirectory)
}()
/// Messages the queue committed, and sessions run, since the start.
let committedMessages = Atomic<Int>(0)
let sessionCount = Atomic<Int>(0)
/// FUZZ_SESSION_TRACE=1 prints each session's replies (to see what an input does).
let traceSessions = ProcessInfo.processInfo.environment["FUZZ_SESSION_TRACE"] != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSession(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks the client (inside or outside mynetworks, with a verified name or
    // without) and seeds where the client's bytes are cut into reads.
    let control = input.first ?? 0
    let body = Array(input.dropFirst())
    let session = sessionCount.add(1, ordering: .relaxed).newValue
    // A new address each time: the rate limits and the AUTH failure counts are per client.
    let inside = control & 1 == 0
    let address = inside
        ? "10.\(session >> 16 & 0xFF).\(session >> 8 & 0xFF).\(session & 0xFF)"
        : "198.18.\(session >> 8 & 0xFF).\(session & 0xFF)"
    let client = ClientIdentity(address: address, port: "4242", name: control & 2 == 0 ? "unknown" : "client.example.net",
                                nameStatus: control & 2 == 0 ? .permanentFailure : .ok)
    let pieces = split(body, seed: control)
    let before = committedMessages.load(ordering: .relaxed)

    let done = DispatchSemaphore(value: 0)
    let box = OutputBox()
    Task {
        box.bytes = await runSession(pieces, client: client)
        done.signal()
    }
    done.wait()
    let acknowledged = committedMessages.load(ordering: .relaxed) - before
    if traceSessions { print(String(decoding: box.bytes, as: UTF8.self) + "(\(acknowledged) committed)") }
    check(box.bytes, acknowledged: acknowledged)
    if session % 64 == 0 { harness.emptyQueue() }
    return 0
}

final class OutputBox: @unchecked Sendable {
    var bytes: [UInt8] = []
}

/// The input cut into up to eight reads at places the control byte picks.
func split(_ body: [UInt8], seed: UInt8) -> [[UInt8]] {
    var pieces: [[UInt8]] = []
    var rest = body[...]
    var state = UInt32(seed) &* 2_654_435_761 &+ UInt32(body.count)
    while !rest.isEmpty && pieces.count < 7 {
        state = state &* 1_103_515_245 &+ 12345
        let length = 1 + Int(state >> 16) % max(rest.count, 1)
        pieces.append(Array(rest.prefix(length)))
        rest = rest.dropFirst(length)
    }
    if !rest.isEmpty { pieces.append(Array(rest)) }
    return pieces
}

/// Runs one session over a testing channel: the pieces arrive, the client closes its side, and
/// whatever the server wrote is returned.
func runSession(_ pieces: [[UInt8]], client: ClientIdentity) async -> [UInt8] {
    let channel = NIOAsyncTestingChannel()
    do {
        try await channel.connect(to: try SocketAddress(ipAddress: "192.0.2.25", port: 25))
        let wrapped = try await channel.testingEventLoop.executeInContext {
            try NIOAsyncChannel<SMTPConnectionEvent, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
        for piece in pieces {
            try await channel.writeInbound(SMTPConnectionEvent.bytes(ByteBuffer(bytes: piece)))
        }
        try await channel.testingEventLoop.executeInContext {
            channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        try await wrapped.executeThenClose { inbound, _ in
            let session = SMTPServerSession(
                service: harness.context, channel: channel, events: inbound.makeAsyncIterator(), client: client)
            await session.run()
        }
    } catch {
        fatalError("the testing channel failed: \(error)")
    }
    var output: [UInt8] = []
    while let buffer = try? await channel.readOutbound(as: ByteBuffer.self) {
        output += buffer.readableBytesView
    }
    _ = try? await channel.finish(acceptAlreadyClosed: true)
    return output
}

/// The server's output is a sequence of well-formed replies, starting with the greeting, and says
/// "queued as" exactly as often as the queue committed a message.
func check(_ output: [UInt8], acknowledged: Int) {
    require(output.last == 0x0A || output.isEmpty, "output does not end with a line end")
    var lines: [[UInt8]] = []
    var line: [UInt8] = []
    var index = 0
    while index < output.count {
        let byte = output[index]
        if byte == 0x0D {
            require(index + 1 < output.count && output[index + 1] == 0x0A, "bare CR in a reply")
            lines.append(line)
            line = []
            index += 2
            continue
        }
        require(byte != 0x0A, "bare LF in a reply")
        require(byte != 0, "NUL in a reply")
        line.append(byte)
        index += 1
    }
    var continuingCode: ArraySlice<UInt8>?
    var queued = 0
    for (number, text) in lines.enumerated() {
        let description = String(decoding: text, as: UTF8.self).debugDescription
        require(text.count >= 4, "short reply line \(description)")
        let code = text[0..<3]
        require((UInt8(ascii: "2")...UInt8(ascii: "5")).contains(code.first!), "bad reply code \(description)")
        require(code.dropFirst().allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }, "bad reply code \(description)")
        require(text[3] == UInt8(ascii: " ") || text[3] == UInt8(ascii: "-"), "bad reply separator \(description)")
        if let continuingCode { require(continuingCode.elementsEqual(code), "a multi-line reply changes its code") }
        continuingCode = text[3] == UInt8(ascii: "-") ? code : nil
        if number == 0 { require(code.elementsEqual("220".utf8), "the first reply is not the greeting: \(description)") }
        if code.elementsEqual("250".utf8), String(decoding: text, as: UTF8.self).contains("queued as") { queued += 1 }
    }
    require(continuingCode == nil, "the output ends inside a multi-line reply")
    require(queued == acknowledged, "\(queued) messages acknowledged, \(acknowledged) committed to the queue")
}
