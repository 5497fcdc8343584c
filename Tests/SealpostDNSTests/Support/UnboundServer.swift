import Foundation
import NIOCore
import NIOPosix
import SealpostTestSupport
import Testing

/// A real `unbound` (Debian package unbound) on 127.0.0.1 and a random port, serving a static
/// `test.` zone from `local-data` lines; run in the foreground as a child of the test and killed
/// afterwards.
final class UnboundServer: @unchecked Sendable {
    let address: SocketAddress
    private let process: Process
    private let directory: TemporaryDirectory

    /// The unbound binary, or nil: the test then returns early, except under CI where it fails.
    static func binary(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        for candidate in ["/usr/sbin/unbound", "/usr/bin/unbound", "/usr/local/sbin/unbound"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("unbound is not installed but CI is set; install Debian's unbound package", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// Runs `body` with a server for `localData` (zone file lines), stopping it afterwards whatever happens.
    static func with<Result>(
        binary: String, localData: [String], _ body: (UnboundServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(binary: binary, localData: localData)
        defer { server.stop() }
        return try await body(server)
    }

    private init(address: SocketAddress, process: Process, directory: TemporaryDirectory) {
        self.address = address
        self.process = process
        self.directory = directory
    }

    private static func start(binary: String, localData: [String]) async throws -> UnboundServer {
        var lastLog = ""
        // A port found free can be taken before unbound binds it: then try another.
        for _ in 0..<5 {
            // The UDP port may be taken for TCP already: then another.
            guard let port = try? await freePort() else { continue }
            let directory = try TemporaryDirectory()
            let configuration = """
                server:
                    interface: 127.0.0.1@\(port)
                    port: \(port)
                    do-ip4: yes
                    do-ip6: no
                    do-udp: yes
                    do-tcp: yes
                    do-daemonize: no
                    chroot: ""
                    username: ""
                    directory: "\(directory.path)"
                    pidfile: "\(directory.path)/unbound.pid"
                    logfile: "\(directory.path)/unbound.log"
                    use-syslog: no
                    verbosity: 1
                    num-threads: 1
                    so-reuseport: no
                    access-control: 127.0.0.0/8 allow
                    module-config: "iterator"
                    local-zone: "test." static
                \(localData.map { "    local-data: \"\($0)\"" }.joined(separator: "\n"))
                remote-control:
                    control-enable: no

                """
            let path = try directory.write("unbound.conf", configuration)
            let check = try run(binary.replacingOccurrences(of: "/unbound", with: "/unbound-checkconf"), [path])
            if let check, check.status != 0 { throw FixtureError("unbound-checkconf rejected the test configuration: \(check.output)") }

            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["-d", "-c", path]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let server = UnboundServer(
                address: try SocketAddress(ipAddress: "127.0.0.1", port: port), process: process, directory: directory)
            let started = waitUntil(timeout: 20) {
                !process.isRunning || ((try? directory.read("unbound.log")) ?? "").contains("start of service")
            }
            lastLog = (try? directory.read("unbound.log")) ?? ""
            if started && process.isRunning { return server }
            server.stop()
        }
        throw FixtureError("unbound did not start: \(lastLog)")
    }

    /// Kills unbound (SIGKILL: the test runner's threads block SIGTERM, and children inherit the mask).
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    deinit {
        stop()
    }

    /// A port free for both UDP and TCP on 127.0.0.1 a moment ago.
    private static func freePort() async throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        let datagram = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = datagram.localAddress!.port!
        defer { datagram.close(promise: nil) }
        let stream = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: port).get()
        try await stream.close()
        return port
    }

    private static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String)? {
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
