#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import SealpostTestSupport
import Synchronization
import Testing

@testable import SealpostPolicy

/// The DNS wire format and the system resolver, against a small DNS server on 127.0.0.1.
@Suite struct DNSTests {
    // MARK: - Messages

    @Test func queries() throws {
        let query = try #require(DNSMessage.query(id: 0x1234, name: "mx.example.", type: .mx))
        #expect(query == [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0x6D, 0x78, 7] + Array("example".utf8) + [0, 0, 15, 0, 1])
        #expect(DNSMessage.query(id: 1, name: "a..b", type: .a) == nil)
        #expect(DNSMessage.query(id: 1, name: String(repeating: "a", count: 64) + ".test", type: .a) == nil)
    }

    @Test func responses() {
        let a = FakeDNSServer.response(id: 1, name: "x.test", type: .a, rcode: 0, answers: [FakeDNSServer.record(.a, [192, 0, 2, 1])])
        #expect(DNSMessage.parseResponse(a, type: .a) == .found(["192.0.2.1"]))
        #expect(DNSMessage.parseResponse(a, type: .aaaa) == .notFound)
        let mx = FakeDNSServer.response(id: 1, name: "x.test", type: .mx, rcode: 0, answers: [
            FakeDNSServer.mx(20, "backup.x.test"), FakeDNSServer.mx(10, "primary.x.test"), FakeDNSServer.mx(20, "backup2.x.test"),
        ])
        #expect(DNSMessage.parseResponse(mx, type: .mx) == .found(["primary.x.test", "backup.x.test", "backup2.x.test"]))
        #expect(DNSMessage.parseResponse(FakeDNSServer.response(id: 1, name: "x.test", type: .mx, rcode: 0, answers: [FakeDNSServer.mx(0, "")]), type: .mx) == .nullMX)
        #expect(DNSMessage.parseResponse(FakeDNSServer.response(id: 1, name: "x.test", type: .mx, rcode: 0, answers: [FakeDNSServer.mx(0, "bad_name!")]), type: .mx) == .malformed)
        #expect(DNSMessage.parseResponse(FakeDNSServer.response(id: 1, name: "x.test", type: .a, rcode: 3, answers: []), type: .a) == .notFound)
        #expect(DNSMessage.parseResponse(FakeDNSServer.response(id: 1, name: "x.test", type: .a, rcode: 2, answers: []), type: .a) == .temporaryFailure)
        #expect(DNSMessage.parseResponse(FakeDNSServer.response(id: 1, name: "x.test", type: .a, rcode: 5, answers: []), type: .a) == .permanentFailure)
        let txt = FakeDNSServer.response(id: 1, name: "x.test", type: .txt, rcode: 0, answers: [FakeDNSServer.record(.txt, [5] + Array("v=spf".utf8) + [5] + Array("1 -al".utf8))])
        #expect(DNSMessage.parseResponse(txt, type: .txt) == .found(["v=spf1 -al"]))
        // Truncated messages and compression loops are failures, never crashes.
        #expect(DNSMessage.parseResponse(Array(a.prefix(20)), type: .a) == .temporaryFailure)
        var loop = FakeDNSServer.response(id: 1, name: "x.test", type: .ptr, rcode: 0, answers: [FakeDNSServer.record(.ptr, [0xC0, 0])])
        loop[loop.count - 2] = 0xC0
        loop[loop.count - 1] = UInt8(loop.count - 2)
        #expect(DNSMessage.parseResponse(loop, type: .ptr) == .temporaryFailure)
    }

    @Test func randomResponsesNeverCrash() {
        var random = SeededGenerator(seed: 53)
        let base = FakeDNSServer.response(id: 1, name: "x.test", type: .mx, rcode: 0, answers: [FakeDNSServer.mx(10, "mail.x.test")])
        for _ in 0..<3000 {
            var message = base
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                message[Int.random(in: 0..<message.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if Bool.random(using: &random) { message = Array(message.prefix(Int.random(in: 0...message.count, using: &random))) }
            for type in DNSRecordType.allCases { _ = DNSMessage.parseResponse(message, type: type) }
        }
    }

    // MARK: - The system resolver

    @Test func theSystemResolverAsksTheServer() async throws {
        let server = try FakeDNSServer()
        defer { server.stop() }
        server.answer("a.test", .a) { FakeDNSServer.response(id: $0, name: "a.test", type: .a, rcode: 0, answers: [FakeDNSServer.record(.a, [192, 0, 2, 7])]) }
        server.answer("a.test", .aaaa) { FakeDNSServer.response(id: $0, name: "a.test", type: .aaaa, rcode: 0, answers: [FakeDNSServer.record(.aaaa, [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1])]) }
        server.answer("null.test", .mx) { FakeDNSServer.response(id: $0, name: "null.test", type: .mx, rcode: 0, answers: [FakeDNSServer.mx(0, "")]) }
        server.answer("fail.test", .mx) { FakeDNSServer.response(id: $0, name: "fail.test", type: .mx, rcode: 2, answers: []) }
        server.answer("xn--bcher-kva.test", .mx) { FakeDNSServer.response(id: $0, name: "xn--bcher-kva.test", type: .mx, rcode: 0, answers: [FakeDNSServer.mx(5, "mx.xn--bcher-kva.test")]) }
        server.answer("silent.test", .a) { _ in nil }
        let resolver = SystemDNSResolver(timeoutSeconds: 1, attempts: 1, nameservers: [("127.0.0.1", server.port)])
        #expect(await resolver.lookup("a.test", type: .a) == .found(["192.0.2.7"]))
        #expect(await resolver.lookup("a.test.", type: .aaaa) == .found(["2001:db8::1"]))
        #expect(await resolver.lookup("null.test", type: .mx) == .nullMX)
        #expect(await resolver.lookup("fail.test", type: .mx) == .temporaryFailure)
        #expect(await resolver.lookup("bücher.test", type: .mx) == .found(["mx.xn--bcher-kva.test"]))
        #expect(await resolver.lookup("nowhere.test", type: .a) == .notFound)
        #expect(await resolver.lookup("silent.test", type: .a) == .temporaryFailure)
        #expect(await resolver.lookup("a..test", type: .a) == .malformed)
    }
}

/// A DNS server on 127.0.0.1 for the resolver tests: answers from a table (NXDOMAIN for the
/// rest); a nil answer is no answer at all.
final class FakeDNSServer: Sendable {
    private let socket: Int32
    let port: UInt16
    private let answers = Mutex<[String: @Sendable (UInt16) -> [UInt8]?]>([:])
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)

    init() throws {
        #if canImport(Glibc)
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let descriptor = Darwin.socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw POSIXFailure() }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        socket = descriptor
        port = UInt16(bigEndian: address.sin_port)
        DispatchQueue.global().async { [self] in serve() }
    }

    struct POSIXFailure: Error {}

    func answer(_ name: String, _ type: DNSRecordType, _ make: @escaping @Sendable (UInt16) -> [UInt8]?) {
        answers.withLock { $0["\(name)/\(type.rawValue)"] = make }
    }

    func stop() {
        stopped.withLock { $0 = true }
        done.wait()
        close(socket)
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 1500)
        while !stopped.withLock({ $0 }) {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(socket, &buffer, buffer.count, 0, $0, &peerLength) }
            }
            guard count > 12 else { continue }
            let query = Array(buffer.prefix(count))
            let id = UInt16(query[0]) << 8 | UInt16(query[1])
            var labels: [String] = []
            var index = 12
            while index < query.count && query[index] != 0 {
                let length = Int(query[index])
                labels.append(String(decoding: query[(index + 1)..<min(index + 1 + length, query.count)], as: UTF8.self))
                index += 1 + length
            }
            guard index + 3 < query.count else { continue }
            let name = labels.joined(separator: ".")
            let type = UInt16(query[index + 1]) << 8 | UInt16(query[index + 2])
            let make = answers.withLock { $0["\(name)/\(type)"] }
            let reply: [UInt8]?
            if let make {
                reply = make(id)
            } else {
                reply = Self.response(id: id, name: name, type: DNSRecordType(rawValue: type) ?? .a, rcode: 3, answers: [])
            }
            guard let reply else { continue }
            _ = withUnsafePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socket, reply, reply.count, 0, $0, peerLength) }
            }
        }
        done.signal()
    }

    /// A response with the question and `answers` (each an answer record after the owner name).
    static func response(id: UInt16, name: String, type: DNSRecordType, rcode: UInt8, answers: [[UInt8]]) -> [UInt8] {
        var message: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x81, 0x80 | rcode, 0, 1, 0, UInt8(answers.count), 0, 0, 0, 0]
        message += DNSMessage.encodeName(name) ?? [0]
        message += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1]
        for answer in answers { message += [0xC0, 12] + answer }
        return message
    }

    static func record(_ type: DNSRecordType, _ data: [UInt8]) -> [UInt8] {
        [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1, 0, 0, 0x0E, 0x10, UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
    }

    static func mx(_ preference: UInt16, _ exchange: String) -> [UInt8] {
        record(.mx, [UInt8(preference >> 8), UInt8(preference & 0xFF)] + (exchange.isEmpty ? [0] : DNSMessage.encodeName(exchange)!))
    }
}
