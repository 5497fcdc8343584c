import Foundation
import Synchronization
import SealpostTestSupport
import Testing

@testable import SealpostConfig

/// All lookup-table suites live under this one, so `swift test --filter Tables` selects them.
@Suite("Lookup tables")
struct Tables {}

/// A scratch directory for table files, removed when the value is no longer used.
final class TableScratch {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sealpost-tables-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `text` to `name` and returns its path; `modified` sets the file's modification time
    /// (by default an hour ago, so that postmap does not wait for a "hot" texthash file to settle).
    @discardableResult
    func write(_ name: String, _ text: String, modified: Date = Date(timeIntervalSinceNow: -3600)) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
        return url.path
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// A clock that moves only when the test says so.
final class ManualClock: Sendable {
    private let offset = Mutex<Duration>(.zero)
    private let start = ContinuousClock.now

    func advance(by duration: Duration) { offset.withLock { $0 += duration } }

    var now: @Sendable () -> ContinuousClock.Instant {
        { [self] in start + offset.withLock { $0 } }
    }
}

/// Collects what tables report through their callbacks.
final class TableReports: Sendable {
    private let collectedWarnings = Mutex<[TableWarning]>([])
    private let collectedErrors = Mutex<[TableError]>([])

    var warnings: [TableWarning] { collectedWarnings.withLock { $0 } }
    var reloadErrors: [TableError] { collectedErrors.withLock { $0 } }

    func options(clock: ManualClock? = nil) -> TableOptions {
        let warningSink: @Sendable (TableWarning) -> Void = { [self] warning in
            collectedWarnings.withLock { $0.append(warning) }
        }
        let errorSink: @Sendable (TableError) -> Void = { [self] error in
            collectedErrors.withLock { $0.append(error) }
        }
        var options = TableOptions(onReloadError: errorSink, onWarning: warningSink)
        if let clock { options.now = clock.now }
        return options
    }
}

/// The real `postmap`, the reference peer for lookups.
enum Postmap {
    /// The `postmap` executable, or nil when Postfix is not installed.
    static let executable: String? = {
        let directories = ["/usr/sbin", "/usr/bin", "/usr/local/sbin"]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return directories.map { "\($0)/postmap" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// A configuration directory, so that postmap needs no /etc/postfix: Sealpost's defaults
    /// (compatibility_level 3.7, so smtputf8_enable = yes and keys fold with Unicode case folding),
    /// or with `legacy` Postfix's level-0 ones (smtputf8_enable = no: ASCII folding).
    private static let currentConfigDirectory = makeConfigDirectory(legacy: false)
    private static let legacyConfigDirectory = makeConfigDirectory(legacy: true)

    private static func configDirectory(legacy: Bool) -> String {
        legacy ? legacyConfigDirectory : currentConfigDirectory
    }

    private static func makeConfigDirectory(legacy: Bool) -> String {
        // One fixed directory per kind, shared by test runs, so runs leave nothing new behind;
        // main.cf is replaced atomically because postmap processes of other runs may read it.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sealpost-postmap-config-\(legacy ? "legacy" : "current")", isDirectory: true)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let settings = legacy ? "" : "compatibility_level = 3.7\n"
        try? Data(settings.utf8).write(to: directory.appendingPathComponent("main.cf"), options: .atomic)
        return directory.path
    }

    /// Whether comparisons can run: true when postmap is installed; otherwise records a failure
    /// when the environment variable CI is set (the peer must be there in CI) and returns false.
    static func available(sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Bool {
        if executable != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("postmap is not installed but CI is set; install Debian's postfix package", sourceLocation: sourceLocation)
        }
        return false
    }

    /// What `postmap -q - table` answers for each key (keys it has no value for are absent).
    static func query(_ keys: [String], in table: String, legacy: Bool = false) throws -> [String: String] {
        let (answers, complaints) = try run(keys, in: table, legacy: legacy)
        if complaints.contains("fatal:") {
            throw PostmapFailure(message: complaints)
        }
        return answers
    }

    /// What postmap writes to standard error when it opens `table`: its warnings.
    static func complaints(about table: String) throws -> String {
        try run(["sealpost-probe"], in: table).complaints
    }

    private static func run(
        _ keys: [String], in table: String, legacy: Bool = false
    ) throws -> (answers: [String: String], complaints: String) {
        guard let executable else { return ([:], "") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", configDirectory(legacy: legacy), "-q", "-", table]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(keys.map { $0 + "\n" }.joined().utf8))
        try input.fileHandleForWriting.close()
        let answer = output.fileHandleForReading.readDataToEndOfFile()
        let complaints = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var results: [String: String] = [:]
        for line in String(decoding: answer, as: UTF8.self).split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            results[String(line[..<tab])] = String(line[line.index(after: tab)...])
        }
        return (results, complaints)
    }

    /// Checks that postmap, too, finds fault with `line` of `table` (Postfix warns and skips the
    /// rule where Sealpost refuses the table).
    static func expectComplaint(about table: String, line: Int, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        guard available(sourceLocation: sourceLocation) else { return }
        let complaints = try complaints(about: table)
        #expect(complaints.contains(", line \(line):"), "postmap said: \(complaints)", sourceLocation: sourceLocation)
    }

    /// Checks that `table` answers every key as postmap does (`legacy`: with smtputf8_enable = no).
    static func expectSameAnswers(
        _ keys: [String], reference: String, legacy: Bool = false,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        guard available(sourceLocation: sourceLocation) else { return }
        let expected = try query(keys, in: reference, legacy: legacy)
        #expect(!expected.isEmpty, "postmap found none of the keys in \(reference)", sourceLocation: sourceLocation)
        let table = try TableReference(parsing: reference).open(TableOptions(unicodeKeyFolding: !legacy))
        for key in keys {
            #expect(try table.lookup(key) == expected[key], "key \"\(key)\" in \(reference)", sourceLocation: sourceLocation)
        }
    }
}

struct PostmapFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { "postmap failed: \(message)" }
}

/// Opens `reference` text and returns the table; fails the test on error.
func openTable(_ reference: String, _ options: TableOptions = TableOptions()) throws -> any LookupTable {
    try TableReference(parsing: reference).open(options)
}

/// The error opening `reference` throws, or nil when it opens.
func openError(_ reference: String) -> TableError? {
    do {
        _ = try TableReference(parsing: reference).open()
        return nil
    } catch {
        return error
    }
}
