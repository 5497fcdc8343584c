import Foundation
import SealpostTestSupport
import Testing

@testable import SealpostTLS

@Suite("Entropy: tls_random_source")
struct EntropyTests {
    @Test("dev:/dev/urandom, a regular file and an EGD socket seed OpenSSL; a missing source is an error naming it")
    func sources() throws {
        let directory = try TemporaryDirectory()
        let device = try TLSEntropySeeder(source: TLSRandomSource("dev:/dev/urandom"), bytes: 32, reseedPeriod: 3600)
        #expect(device.source == .device("/dev/urandom"))
        #expect(try device.seedNow() == 32)
        // Postfix reads at most 255 bytes from a device at a time.
        #expect(try TLSEntropySeeder(source: .device("/dev/urandom"), bytes: 1024, reseedPeriod: 60).seedNow() == 255)

        let file = try directory.write("seed", String(repeating: "x", count: 100))
        let fromFile = try TLSEntropySeeder(source: TLSRandomSource(file), bytes: 64, reseedPeriod: 3600)
        #expect(fromFile.source == .file(file))
        #expect(try fromFile.seedNow() == 64)

        let missing = #expect(throws: TLSConfigurationError.self) {
            try TLSEntropySeeder(source: TLSRandomSource(directory.path + "/absent"), bytes: 32, reseedPeriod: 3600)
        }
        #expect(missing?.code == .randomSourceUnavailable)
        #expect(missing?.parameter == "tls_random_source")
        #expect(missing?.reason == "tls_random_source: entropy file \(directory.path)/absent does not exist; no entropy for TLS key generation")
        let device2 = #expect(throws: TLSConfigurationError.self) {
            try TLSEntropySeeder(source: TLSRandomSource("dev:/dev/no-such-device"), bytes: 32, reseedPeriod: 3600)
        }
        #expect(device2?.reason.contains("cannot open entropy device /dev/no-such-device") == true)
        let empty = try directory.write("empty", "")
        #expect(throws: TLSConfigurationError.self) { try TLSEntropySeeder(source: .file(empty), bytes: 32, reseedPeriod: 3600) }
        let egd = #expect(throws: TLSConfigurationError.self) {
            try TLSEntropySeeder(source: TLSRandomSource("egd:\(directory.path)/egd.sock"), bytes: 32, reseedPeriod: 3600)
        }
        #expect(egd?.reason.contains("cannot connect to EGD server \(directory.path)/egd.sock") == true)

        let socketPath = directory.path + "/egd"
        let egdServer = try FakeEGDServer(path: socketPath)
        let fromEGD = try TLSEntropySeeder(source: TLSRandomSource("egd:" + socketPath), bytes: 40, reseedPeriod: 3600)
        #expect(fromEGD.source == .egd(socketPath))
        #expect(egdServer.requests.first == [1, 40])
        #expect(try fromEGD.seedNow() == 40)
    }

    @Test("the source is read again once the reseed period has passed (a file only once)")
    func reseed() throws {
        let seeder = try TLSEntropySeeder(source: .device("/dev/urandom"), bytes: 16, reseedPeriod: 60)
        let now = Int(Date().timeIntervalSince1970)
        #expect(try seeder.reseedIfDue(now: now + 10).get() == 0)
        #expect(try seeder.reseedIfDue(now: now + 61).get() == 16)
        #expect(try seeder.reseedIfDue(now: now + 62).get() == 0)
        let directory = try TemporaryDirectory()
        let file = try directory.write("seed", "0123456789")
        let fromFile = try TLSEntropySeeder(source: .file(file), bytes: 16, reseedPeriod: 60)
        #expect(try fromFile.reseedIfDue(now: now + 100).get() == 0)
    }

    @Test("a context refuses to start without its entropy source, as Postfix disables TLS")
    func contextNeedsEntropy() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let error = #expect(throws: TLSConfigurationError.self) {
            try serverContext(material.rsaServer + "tls_random_source = dev:/nonexistent/random\n")
        }
        #expect(error?.code == .randomSourceUnavailable)
        let client = #expect(throws: TLSConfigurationError.self) {
            try TLSClientContextBuilder.makeContext(TLSClientSettings(serviceConfiguration("tls_random_source = /nonexistent\n")))
        }
        #expect(client?.path == "/nonexistent")
        _ = try serverContext(material.rsaServer + "tls_random_source = \(material.caCertificate)\ntls_random_bytes = 512\n")
    }
}

/// An Entropy Gathering Daemon that answers "read N bytes without blocking" (command 1) with N bytes.
final class FakeEGDServer: @unchecked Sendable {
    private let listener: Int32
    private let lock = NSLock()
    private var received: [[UInt8]] = []

    var requests: [[UInt8]] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    init(path: String) throws {
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else { throw FixtureError("cannot listen on \(path)") }
        self.listener = listener
        Thread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 { return }
                var request = [UInt8](repeating: 0, count: 2)
                if recv(connection, &request, 2, Int32(MSG_WAITALL)) == 2 {
                    lock.lock()
                    received.append(request)
                    lock.unlock()
                    let answer = [request[1]] + [UInt8](repeating: 0x5a, count: Int(request[1]))
                    _ = send(connection, answer, answer.count, Int32(MSG_NOSIGNAL))
                }
                close(connection)
            }
        }.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

@Suite("Logging: Postfix's level 2 and 3 lines")
struct LoggingTests {
    @Test("tls_dump_buffer: 16 bytes a line, | after the eighth, printable text, trailing spaces folded")
    func dumpFormat() {
        let bytes = Array("220 test ESMTP\r\nEHLO".utf8) + [0, 0x20, 0x20]
        #expect(TLSHandshakeLog.dumpLines(bytes) == [
            "0000 32 32 30 20 74 65 73 74|20 45 53 4d 54 50 0d 0a  220 test  ESMTP..",
            "0010 45 48 4c 4f                                      EHLO",
            "0014 - <SPACES/NULLS>",
        ])
        #expect(TLSHandshakeLog.dumpLines([0x16, 0x03, 0x01]) == [
            "0000 16 03 01                                         ...",
        ])
        #expect(TLSHandshakeLog.dumpLines([]).isEmpty)
        #expect(TLSHandshakeLog.dumpHeader(read: true, bio: 0x55AB12, buffer: 0x7F00, requested: 5, result: 5)
            == "read from 0055AB12 [00007F00] (5 bytes => 5 (0x5))")
        #expect(TLSHandshakeLog.dumpHeader(read: false, bio: 1, buffer: 2, requested: 517, result: -1)
            == "write to 00000001 [00000002] (517 bytes => -1)")
    }

    @Test("level 2: the handshake states from OpenSSL's info callback; level 1 has none")
    func level2() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let collector = LineCollector()
        let context = try serverContext(material.rsaServer + "smtpd_tls_loglevel = 2\n", sink: collector.sink)
        let (outcome, _) = try SClient.handshake(context, ["-tls1_2"])
        #expect(outcome?.info != nil)
        let lines = collector.lines
        #expect(lines.first == "SSL_accept:before SSL initialization", "\(lines)")
        #expect(lines.contains("SSL_accept:SSLv3/TLS read client hello"))
        #expect(lines.contains("SSL_accept:SSLv3/TLS write server hello"))
        #expect(lines.contains("SSL_accept:SSLv3/TLS write certificate"))
        #expect(lines.contains("SSL_accept:SSLv3/TLS write finished"))
        #expect(lines.contains { $0.hasPrefix("localhost[127.0.0.1]: Issuing session ticket, key expiration: ") })
        #expect(!lines.contains { $0.hasPrefix("read from") })

        let quiet = LineCollector()
        _ = try SClient.handshake(try serverContext(material.rsaServer + "smtpd_tls_loglevel = 1\n", sink: quiet.sink), [])
        #expect(quiet.lines.isEmpty)
    }

    @Test("a failed handshake logs the alert and the error state")
    func failure() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let collector = LineCollector()
        let context = try serverContext(material.rsaServer + "smtpd_tls_loglevel = 2\nsmtpd_tls_protocols = >=TLSv1.3\n", sink: collector.sink)
        let (outcome, _) = try SClient.handshake(context, ["-tls1_2"])
        guard case .failed(let reason)? = outcome else {
            Issue.record("handshake should fail")
            return
        }
        #expect(reason.contains("unsupported protocol"), "\(reason)")
        #expect(collector.lines.contains("SSL3 alert write:fatal:protocol version"), "\(collector.lines)")
        #expect(collector.lines.contains { $0.hasPrefix("SSL_accept:error in ") })
    }

    @Test("level 3: hex dumps of the handshake, stopped after it; level 4 keeps dumping")
    func level3() throws {
        guard let material = try ContextTestMaterial.shared() else { return }
        let collector = LineCollector()
        let context = try serverContext(material.rsaServer + "smtpd_tls_loglevel = 3\n", sink: collector.sink)
        _ = try SClient.handshake(context, ["-tls1_2"])
        let lines = collector.lines
        let reads = lines.filter { $0.hasPrefix("read from ") }
        #expect(!reads.isEmpty, "\(lines.prefix(20))")
        #expect(reads.first?.hasSuffix("(5 bytes => 5 (0x5))") == true, "\(reads.first ?? "")")
        // The first record header of the ClientHello: handshake (0x16), TLS 1.0 record version.
        let firstDump = lines.firstIndex { $0.hasPrefix("read from ") }.map { lines[$0 + 1] }
        #expect(firstDump?.hasPrefix("0000 16 03 01") == true, "\(firstDump ?? "")")
        #expect(lines.contains { $0.hasPrefix("write to ") })
        // After the handshake the dump stops: the "250 2.0.0 TLS ok" record is not there.
        let writesAfterHandshake = lines.filter { $0.hasPrefix("write to ") }.count

        let everything = LineCollector()
        _ = try SClient.handshake(
            try serverContext(material.rsaServer + "smtpd_tls_loglevel = 4\n", sink: everything.sink), ["-tls1_2"])
        #expect(everything.lines.filter { $0.hasPrefix("write to ") }.count > writesAfterHandshake)
    }
}
