import Foundation
import Testing

/// Runs the real peers (openssl, gnutls-cli, python3, posttls-finger) with a time limit.
enum ExternalTool {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
        var all: String { stdout + "\n" + stderr }
    }

    /// The absolute path of a program on PATH (or an absolute path that exists).
    static func find(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The program, or nil: a test then returns early, except under CI (the CI variable set) where the missing
    /// peer is recorded as a failure.
    static func require(_ name: String, package: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if let path = find(name) { return path }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("\(name) is missing; install the \(package) package", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// Runs a program to completion (killing it after `timeout` seconds); `input` is written to its stdin, which is
    /// then closed.
    static func run(
        _ path: String, _ arguments: [String], input: String = "", environment: [String: String]? = nil,
        directory: String? = nil, timeout: Double = 20
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        if !input.isEmpty { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()

        let outputs = OutputCollector()
        let group = DispatchGroup()
        for (pipe, isError) in [(stdout, false), (stderr, true)] {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                outputs.set(data, isError: isError)
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                // SIGKILL: the test runner's threads block SIGTERM, and children inherit the blocked mask.
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        _ = group.wait(timeout: .now() + 5)
        return Output(
            status: process.terminationStatus, stdout: outputs.text(isError: false), stderr: outputs.text(isError: true),
            timedOut: timedOut)
    }

    private final class OutputCollector: @unchecked Sendable {
        private let lock = NSLock()
        private var out = Data()
        private var err = Data()

        func set(_ data: Data, isError: Bool) {
            lock.lock()
            if isError { err = data } else { out = data }
            lock.unlock()
        }

        func text(isError: Bool) -> String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: isError ? err : out, as: UTF8.self)
        }
    }
}

/// A long-running peer (`openssl s_server`), killed when the value goes away.
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let buffer = Buffer()

    /// What the peer printed; shared with the reading thread (which must not keep the process object alive).
    private final class Buffer: @unchecked Sendable {
        private let lock = NSLock()
        private var collected = Data()

        func append(_ data: Data) {
            lock.lock()
            collected.append(data)
            lock.unlock()
        }

        var text: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: collected, as: UTF8.self)
        }
    }

    init(_ path: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let handle = output.fileHandleForReading
        let buffer = buffer
        Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                buffer.append(data)
            }
        }.start()
    }

    /// Everything the peer printed so far.
    var text: String { buffer.text }

    /// Waits until the peer printed `marker` (s_server prints `ACCEPT` once it listens).
    func waitFor(_ marker: String, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text.contains(marker) { return true }
            usleep(20_000)
        }
        return false
    }

    deinit {
        if process.isRunning {
            // SIGKILL: the test runner's threads block SIGTERM, and children inherit the blocked mask.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
