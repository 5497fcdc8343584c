import Foundation
import SealpostTestSupport

/// Runs the built `sealpost` executable, as an administrator would.
enum SealpostBinary {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// The executable built beside this test bundle.
    static var path: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // The test bundle may be nested (…/debug/sealpostPackageTests.xctest/Contents/MacOS/…).
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("sealpost").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return testBinary.deletingLastPathComponent().appendingPathComponent("sealpost").path
    }

    /// Runs `sealpost arguments…` to completion.
    static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> Result {
        let process = makeProcess(arguments, environment: environment)
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        if let input {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(Data(input.utf8))
            try pipe.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }

    /// Starts `sealpost arguments…` in the background; stop it with ``RunningProcess/stop(signal:)``.
    static func start(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws -> RunningProcess {
        let process = makeProcess(arguments, environment: environment)
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        let error = Pipe()
        process.standardError = error
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return RunningProcess(process: process, standardError: error)
    }

    /// A process for the executable, with this environment minus `SEALPOST_CONFIG_DIR`, plus `environment`.
    private static func makeProcess(_ arguments: [String], environment: [String: String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "SEALPOST_CONFIG_DIR")
        merged.merge(environment) { _, new in new }
        process.environment = merged
        return process
    }

    final class RunningProcess {
        let process: Process
        let standardError: Pipe

        init(process: Process, standardError: Pipe) {
            self.process = process
            self.standardError = standardError
        }

        func signal(_ number: Int32) {
            kill(process.processIdentifier, number)
        }

        /// Sends `signal` and waits for the exit; returns the status and everything written to
        /// standard error.
        func stop(signal number: Int32 = SIGTERM) -> (status: Int32, standardError: String) {
            if process.isRunning { kill(process.processIdentifier, number) }
            let data = standardError.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    /// The directory of this test target's fixtures.
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }
}

