import Foundation
import Testing

/// The real programs these tests compare Sealpost with (Debian packages). A missing peer makes a
/// test return early, or fail when the environment variable CI is set (CI must install it).
enum Peer {
    /// The path of `name` in the usual directories, or nil.
    static func path(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The path of `name`; nil (and an Issue under CI) when it is not installed.
    static func require(_ name: String, package: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if let path = path(name) { return path }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("\(name) is not installed but CI is set; install Debian's \(package) package", sourceLocation: sourceLocation)
        }
        return nil
    }

    struct Output {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// Runs a program to completion with optional standard input.
    static func run(_ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String]? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try inputPipe.fileHandleForWriting.close()
        }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = ContinuousClock.now

    var now: ContinuousClock.Instant {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func advance(by duration: Duration) {
        lock.lock()
        current = current.advanced(by: duration)
        lock.unlock()
    }

    var reader: @Sendable () -> ContinuousClock.Instant { { self.now } }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
