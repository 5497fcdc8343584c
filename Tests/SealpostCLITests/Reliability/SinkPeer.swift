import Foundation
import SealpostTestSupport
import Testing

/// Postfix's smtp-sink as the remote server, on one loopback port for its whole life so that it
/// can be killed and started again where the daemon's transport points. Every transaction is
/// dumped to its own file (`-d`), so the tests see what the peer received, whole or not.
final class SinkPeer {
    let port: Int
    private let dumps: TemporaryDirectory
    private let executable: String
    private var process: Process?

    /// - Parameter options: smtp-sink options for the first start (`-f rcpt`, `-W .:3`, …).
    init(options: [String] = []) throws {
        guard let executable = PeerProgram.require("smtp-sink", package: "postfix") else { throw CocoaError(.fileNoSuchFile) }
        self.executable = executable
        port = try freeLoopbackPort()
        dumps = try TemporaryDirectory()
        // smtp-sink writes its dumps after switching to nobody.
        chmod(dumps.path, 0o777)
        try start(options: options)
    }

    /// Starts smtp-sink with `options` and waits until it listens.
    func start(options: [String] = []) throws {
        stop()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        var arguments = options + ["-d", dumps.path + "/m."]
        if geteuid() == 0 { arguments += ["-u", "nobody"] }
        process.arguments = arguments + ["127.0.0.1:\(port)", "64"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        guard waitForLoopbackListener(port: port) else {
            Issue.record("smtp-sink did not listen on port \(port)")
            throw CocoaError(.fileReadUnknown)
        }
    }

    /// Kills smtp-sink (SIGKILL): the peer vanishes in the middle of whatever it was doing.
    func stop() {
        guard let process else { return }
        self.process = nil
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The transactions received so far, whole or cut off, as dumped. smtp-sink opens the dump at
    /// MAIL FROM and removes it at RSET, but a client that vanishes before DATA (a daemon killed
    /// mid-session) leaves it empty: those received nothing and are left out.
    var transactions: [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dumps.path)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: "\(dumps.path)/\($0)", encoding: .utf8) }.filter { !$0.isEmpty }
    }

    deinit { stop() }
}
