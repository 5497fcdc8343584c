import Foundation
import SealpostTestSupport
import Testing

/// A running `sealpost bench sink` on a free loopback port, its standard output in a file so that
/// `-c` lines can be read while it runs; killed when released.
final class SinkProcess {
    let port: Int
    let directory: TemporaryDirectory
    private let process = Process()

    init(_ options: [String], directory: TemporaryDirectory? = nil) throws {
        self.directory = try directory ?? TemporaryDirectory()
        port = try freeLoopbackPort()
        let output = self.directory.path + "/sink.out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.executableURL = URL(fileURLWithPath: SealpostBinary.path)
        process.arguments = ["bench", "sink"] + options + ["127.0.0.1:\(port)"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: output)
        let errors = self.directory.path + "/sink.err"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errors)
        try process.run()
        // Its own note, not a probe connection, which the sink would count as a session.
        guard waitUntil(timeout: 20, { standardError.contains("listening on") }) else {
            throw TestFailure("the sink did not listen on port \(port): \(stop().standardError)")
        }
    }

    /// What the sink printed so far.
    var standardOutput: String {
        (try? directory.read("sink.out")) ?? ""
    }

    var standardError: String {
        (try? directory.read("sink.err")) ?? ""
    }

    /// Sends `signal`, waits for the exit, and returns the status, the counter lines and standard error.
    @discardableResult
    func stop(signal number: Int32 = SIGTERM) -> (status: Int32, standardOutput: String, standardError: String) {
        if process.isRunning { kill(process.processIdentifier, number) }
        process.waitUntilExit()
        return (process.terminationStatus, standardOutput, standardError)
    }

    /// The last counter line printed, as a dictionary.
    static func counters(_ output: String) -> [String: Int] {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("sessions=") }) else { return [:] }
        var values: [String: Int] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=")
            if parts.count == 2 { values[String(parts[0])] = Int(parts[1]) }
        }
        return values
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
