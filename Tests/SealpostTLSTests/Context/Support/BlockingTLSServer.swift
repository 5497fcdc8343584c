import COpenSSL
import Foundation
import SealpostTestSupport

@testable import SealpostTLS

/// A minimal blocking TLS server for driving a ``TLSContext`` with real clients, without NIO: it accepts
/// connections on 127.0.0.1 in a background thread, optionally speaks just enough SMTP to reach STARTTLS, then runs
/// `SSL_accept` on the socket, records what the handshake tells, answers one line and closes.
final class BlockingTLSServer: @unchecked Sendable {
    enum Mode {
        /// `220 test ESMTP`, EHLO → `250-test` / `250 STARTTLS`, STARTTLS → `220 2.0.0 Ready to start TLS`.
        case startTLS
        /// TLS from the first byte (wrapper mode).
        case implicit
    }

    /// One connection's outcome.
    enum Outcome {
        case established(TLSSessionInfo, serverName: String?)
        case failed(String)

        var info: TLSSessionInfo? {
            if case .established(let info, _) = self { return info }
            return nil
        }
    }

    let context: TLSContext
    let mode: Mode
    let port: UInt16
    private let listener: Int32
    private let expected: Int
    private let lock = NSLock()
    private var outcomes: [Outcome] = []
    private let done = DispatchSemaphore(value: 0)
    private let sink: TLSLogSink?

    /// Listens now; serves `connections` connections in a background thread, then stops.
    init(context: TLSContext, mode: Mode = .startTLS, connections: Int = 1, sink: TLSLogSink? = nil) throws {
        self.context = context
        self.mode = mode
        self.expected = connections
        self.sink = sink
        signal(SIGPIPE, SIG_IGN)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw FixtureError("socket failed") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw FixtureError("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        self.listener = listener
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    deinit {
        close(listener)
    }

    /// Waits until every expected connection is done (or `timeout` passes) and returns the outcomes so far.
    func finish(timeout: Double = 30) -> [Outcome] {
        _ = done.wait(timeout: .now() + timeout)
        lock.lock()
        defer { lock.unlock() }
        return outcomes
    }

    private func record(_ outcome: Outcome) {
        lock.lock()
        outcomes.append(outcome)
        lock.unlock()
    }

    private func serve() {
        defer { done.signal() }
        for _ in 0..<expected {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 30_000) == 1 else { return }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ socket: Int32) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if mode == .startTLS {
            guard plainSMTPUntilStartTLS(socket) else {
                record(.failed("client did not ask for STARTTLS"))
                return
            }
        }
        context.reseedRandomIfDue()
        guard let ssl = SSL_new(context.pointer) else {
            record(.failed("SSL_new failed"))
            return
        }
        defer { SSL_free(ssl) }
        context.attachLogging(to: ssl, peerName: "localhost[127.0.0.1]", sink: sink)
        SSL_set_fd(ssl, socket)
        TLSPacketDump.attachIfWanted(ssl: ssl, context: context)
        ERR_clear_error()
        if SSL_accept(ssl) != 1 {
            record(.failed(OpenSSLErrorQueue.drain().joined(separator: "; ")))
            return
        }
        TLSPacketDump.handshakeFinished(ssl: ssl, context: context)
        let serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        record(.established(context.sessionInfo(for: ssl), serverName: serverName))
        let reply = "250 2.0.0 TLS ok\r\n"
        _ = SSL_write(ssl, reply, Int32(reply.utf8.count))
        // Send close_notify, then wait (briefly) for the client to close its end.
        _ = SSL_shutdown(ssl)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var shortTimeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &shortTimeout, socklen_t(MemoryLayout<timeval>.size))
        for _ in 0..<50 where SSL_read(ssl, &buffer, Int32(buffer.count)) > 0 {}
        ERR_clear_error()
    }

    /// The plaintext part of a STARTTLS session; true once STARTTLS has been answered.
    private func plainSMTPUntilStartTLS(_ socket: Int32) -> Bool {
        send(socket, "220 test ESMTP\r\n")
        while let line = readLine(socket) {
            let command = line.uppercased()
            if command.hasPrefix("EHLO") {
                send(socket, "250-test\r\n250 STARTTLS\r\n")
            } else if command.hasPrefix("HELO") {
                send(socket, "250 test\r\n")
            } else if command.hasPrefix("STARTTLS") {
                send(socket, "220 2.0.0 Ready to start TLS\r\n")
                return true
            } else if command.hasPrefix("QUIT") {
                send(socket, "221 2.0.0 Bye\r\n")
                return false
            } else {
                send(socket, "502 5.5.2 Error: command not recognized\r\n")
            }
        }
        return false
    }

    /// One CRLF-terminated line, read byte by byte so that nothing after STARTTLS is consumed.
    private func readLine(_ socket: Int32) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count < 1000 {
            let count = recv(socket, &byte, 1, 0)
            if count <= 0 { return nil }
            if byte == UInt8(ascii: "\n") {
                if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.append(byte)
        }
        return nil
    }

    private func send(_ socket: Int32, _ text: String) {
        _ = text.withCString { Glibc.send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }
}

/// A blocking TLS client for ``TLSContext``s against real servers (`openssl s_server`).
enum BlockingTLSClient {
    struct Result {
        var info: TLSSessionInfo?
        var error: String?
        var received: String
    }

    /// Connects to 127.0.0.1:`port`, sets the connection up for `destination`, handshakes, sends `request` and
    /// reads what comes back until the server closes.
    static func connect(
        context: TLSContext, port: UInt16, destination: TLSClientDestination, request: String = "GET / HTTP/1.0\r\n\r\n",
        sink: TLSLogSink? = nil
    ) throws -> Result {
        signal(SIGPIPE, SIG_IGN)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw FixtureError("socket failed") }
        defer { close(socket) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw FixtureError("connect to \(port) failed") }
        guard let ssl = SSL_new(context.pointer) else { throw FixtureError("SSL_new failed") }
        defer { SSL_free(ssl) }
        try context.prepareClientConnection(ssl, for: destination)
        if let sink { context.attachLogging(to: ssl, peerName: destination.peerName, sink: sink) }
        SSL_set_fd(ssl, socket)
        ERR_clear_error()
        guard SSL_connect(ssl) == 1 else {
            context.clientHandshakeFailed(ssl)
            return Result(info: nil, error: OpenSSLErrorQueue.drain().joined(separator: "; "), received: "")
        }
        let info = context.sessionInfo(for: ssl)
        _ = SSL_write(ssl, request, Int32(request.utf8.count))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = SSL_read(ssl, &buffer, Int32(buffer.count))
            if count <= 0 { break }
            received += buffer[0..<Int(count)]
        }
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
        return Result(info: info, error: nil, received: String(decoding: received, as: UTF8.self))
    }

    /// A TCP port that was free a moment ago (for peers that need a port number up front).
    static func freePort() -> UInt16 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
