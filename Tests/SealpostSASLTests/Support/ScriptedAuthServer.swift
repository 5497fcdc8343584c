import Foundation

/// A UNIX-socket server speaking just enough of Dovecot's auth protocol to misbehave on purpose.
final class ScriptedAuthServer: @unchecked Sendable {
    enum Script: Sendable {
        /// Accepts and never says anything.
        case silent
        /// Sends the handshake, then reads and never answers.
        case handshakeOnly
        /// Sends the handshake, hangs up when an AUTH line arrives.
        case hangUpAfterAuth
        /// Sends the handshake, answers AUTH with this line (`{id}` is the request id).
        case replyToAuth(String)
        /// Behaves like auth-master: VERSION and SPID, no MECH.
        case authMaster
    }

    static let handshake = "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nSPID\t1\nCUID\t1\nCOOKIE\t00\nDONE\n"

    private let listener: Int32
    private let script: Script
    private let lock = NSLock()
    private var clients: [Int32] = []
    private var stopped = false

    init(path: String, script: Script) throws {
        self.script = script
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else { throw CocoaError(.fileWriteUnknown) }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Wakes the threads; each closes its own descriptor, so no descriptor is closed while another
    /// thread may still use its number (which the process could meanwhile give to a NIO socket).
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        shutdown(listener, Int32(SHUT_RDWR))
        for client in clients {
            shutdown(client, Int32(SHUT_RDWR))
        }
    }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            lock.lock()
            if stopped {
                lock.unlock()
                close(client)
                return
            }
            clients.append(client)
            lock.unlock()
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func send(_ client: Int32, _ text: String) {
        var text = text
        text.withUTF8 { _ = write(client, $0.baseAddress, $0.count) }
    }

    /// Lines from the client until it closes.
    private func lines(_ client: Int32, _ body: (String) -> Bool) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(client, &buffer, buffer.count)
            if count <= 0 { return }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if !body(line) { return }
            }
        }
    }

    private func serve(_ client: Int32) {
        defer {
            // Under the lock: stop() must not shut down a number that is already closed.
            lock.lock()
            clients.removeAll { $0 == client }
            close(client)
            lock.unlock()
        }
        switch script {
        case .silent:
            lines(client) { _ in true }
        case .handshakeOnly:
            send(client, Self.handshake)
            lines(client) { _ in true }
        case .hangUpAfterAuth:
            send(client, Self.handshake)
            lines(client) { !$0.hasPrefix("AUTH\t") }
        case .replyToAuth(let template):
            send(client, Self.handshake)
            lines(client) { line in
                if line.hasPrefix("AUTH\t") {
                    let id = line.split(separator: "\t")[1]
                    send(client, template.replacingOccurrences(of: "{id}", with: String(id)) + "\n")
                }
                return true
            }
        case .authMaster:
            send(client, "VERSION\t1\t2\nSPID\t1\n")
            lines(client) { _ in true }
        }
    }
}
