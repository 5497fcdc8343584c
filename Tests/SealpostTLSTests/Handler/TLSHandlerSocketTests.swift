import Foundation
import NIOCore
import NIOPosix
import SealpostTestSupport
import Synchronization
import Testing

@testable import SealpostTLS

/// What a handler on a real socket saw, shared with the test thread.
final class SocketOutcome: Sendable {
    private struct State {
        var handshake: String?
        var received = ""
        var errors: [String] = []
        var shutdownCompleted = false
        var uncleanShutdown = false
    }
    private let state = Mutex(State())

    var handshake: String? { state.withLock { $0.handshake } }
    var received: String { state.withLock { $0.received } }
    var errors: [String] { state.withLock { $0.errors } }
    var shutdownCompleted: Bool { state.withLock { $0.shutdownCompleted } }

    func record(handshake: TLSHandshakeResult) {
        state.withLock { $0.handshake = "\(handshake.protocolVersion) \(handshake.cipher.name)" }
    }
    func record(received text: String) { state.withLock { $0.received += text } }
    func record(error: Error) { state.withLock { $0.errors.append("\(error)") } }
    func recordShutdown() { state.withLock { $0.shutdownCompleted = true } }
    func recordUnclean() { state.withLock { $0.uncleanShutdown = true } }
}

/// Echoes the first line back as `echo: <line>` and closes (with close_notify); reads only when it
/// wants to, so that it works with auto-read off.
final class LineEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let outcome: SocketOutcome
    var pending = ""
    var answered = false

    init(outcome: SocketOutcome) { self.outcome = outcome }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted(let result):
            outcome.record(handshake: result)
            context.read()
        case TLSUserEvent.shutdownCompleted: outcome.recordShutdown()
        case TLSUserEvent.uncleanShutdown: outcome.recordUnclean()
        default: break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(buffer: unwrapInboundIn(data))
        outcome.record(received: text)
        pending += text
        // Bytes, not Characters: "\r\n" is one Character in Swift.
        guard !answered, let end = pending.utf8.firstIndex(of: UInt8(ascii: "\n")) else { return }
        answered = true
        let line = pending[..<end].trimmingCharacters(in: .whitespacesAndNewlines)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "echo: \(line)\r\n")), promise: nil)
        context.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !answered { context.read() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        outcome.record(error: error)
    }
}

/// Sends an HTTP request once TLS is up and collects the answer (for `openssl s_server -www`).
final class HTTPProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let outcome: SocketOutcome

    init(outcome: SocketOutcome) { self.outcome = outcome }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted(let result):
            outcome.record(handshake: result)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "GET / HTTP/1.0\r\n\r\n")), promise: nil)
        case TLSUserEvent.shutdownCompleted: outcome.recordShutdown()
        case TLSUserEvent.uncleanShutdown: outcome.recordUnclean()
        default: break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        outcome.record(received: String(buffer: unwrapInboundIn(data)))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        outcome.record(error: error)
    }
}

extension HandlerTestSupport {
    /// Runs `openssl` with arguments, feeding `input` on stdin; returns its output once it exits (or is killed at the deadline).
    static func runOpenSSL(_ arguments: [String], input: String, timeout: Double = 20) throws -> (status: Int32, output: String, timedOut: Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        let timedOut = process.isRunning
        // SIGKILL: the child inherits the test process's blocked signals, SIGTERM among them.
        if timedOut { kill(process.processIdentifier, SIGKILL) }
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output, timedOut)
    }
}

@Suite("TLS handler on real sockets against openssl", .serialized)
struct TLSHandlerSocketTests {
    @Test("our server (implicit TLS, auto-read off) echoes a line to openssl s_client")
    func serverAgainstSClient() throws {
        guard let shared = try SharedContexts.get() else { return }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let outcome = SocketOutcome()
        let context = shared.server
        let server = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try TLSHandler(
                        context: context, configuration: TLSHandlerConfiguration(handshakeTimeout: .seconds(15)))
                    try channel.pipeline.syncOperations.addHandlers([tls, LineEchoHandler(outcome: outcome)])
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let port = try #require(server.localAddress?.port)

        let result = try HandlerTestSupport.runOpenSSL(
            ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "mail.example.com",
             "-CAfile", shared.material.server.root, "-verify_return_error", "-crlf", "-quiet"],
            input: "hello sealpost\n", timeout: 10)
        #expect(!result.timedOut, "received \(outcome.received.debugDescription), errors \(outcome.errors)")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("echo: hello sealpost"), "\(result.output)")
        #expect(waitUntil(timeout: 5) { outcome.shutdownCompleted || !outcome.errors.isEmpty })
        #expect(outcome.handshake?.hasPrefix("TLSv1.3 ") == true)
        #expect(outcome.received == "hello sealpost\r\n")
        #expect(outcome.errors.isEmpty)
    }

    @Test("our client fetches the status page of openssl s_server -www")
    func clientAgainstSServer() throws {
        guard let shared = try SharedContexts.get() else { return }
        let material = shared.material.server
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "s_server", "-accept", "127.0.0.1:0", "-cert", material.leaf, "-cert_chain", material.intermediate,
            "-key", material.leafKey,
            "-www", "-naccept", "1",
        ]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = stdout
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        // s_server prints `ACCEPT 127.0.0.1:<port>` once it listens.
        var banner = ""
        var port: Int?
        while port == nil {
            let data = stdout.fileHandleForReading.availableData
            if data.isEmpty { break }
            banner += String(decoding: data, as: UTF8.self)
            if let match = banner.firstMatch(of: /ACCEPT 127\.0\.0\.1:(\d+)/) { port = Int(match.1) }
        }
        let serverPort = try #require(port, "s_server did not start: \(banner)")

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let outcome = SocketOutcome()
        let context = shared.client
        let channel = try ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try TLSHandler(
                        context: context, serverName: "mail.example.com",
                        configuration: TLSHandlerConfiguration(handshakeTimeout: .seconds(15)))
                    try channel.pipeline.syncOperations.addHandlers([tls, HTTPProbeHandler(outcome: outcome)])
                }
            }
            .connect(host: "127.0.0.1", port: serverPort).wait()
        let closed = waitUntil(timeout: 20) { !channel.isActive }
        if !closed { try? channel.close().wait() }
        #expect(closed)
        #expect(outcome.handshake?.hasPrefix("TLSv1.3 ") == true)
        #expect(outcome.received.hasPrefix("HTTP/1.0 200 ok"), "\(outcome.received.prefix(200))")
        #expect(outcome.received.contains("Ciphers supported in s_server binary"))
        #expect(outcome.errors.isEmpty, "\(outcome.errors)")
    }
}
