import Foundation
import Logging
import SealpostQueue
import SealpostTestSupport

/// A queue in a fresh temporary directory.
struct TestQueue {
    let temporary: TemporaryDirectory
    let store: QueueStore
    var directory: String { temporary.path + "/queue" }

    init(
        fileSystem: any QueueFileSystem = SystemFileSystem(), durability: QueueConfiguration.Durability = .recommended,
        chunkSize: Int = 64 * 1024, compactionThreshold: Int = 64 * 1024, spareFiles: Int = 64
    ) throws {
        temporary = try TemporaryDirectory()
        store = try QueueStore(
            configuration: QueueConfiguration(
                directory: temporary.path + "/queue", durability: durability, contentChunkSize: chunkSize,
                journalCompactionThreshold: compactionThreshold, spareFiles: spareFiles),
            fileSystem: fileSystem, logger: quietLogger)
    }

    /// A second store on the same directory: what a restarted process sees.
    func reopened(fileSystem: any QueueFileSystem = unsynced) throws -> QueueStore {
        try QueueStore(configuration: QueueConfiguration(directory: directory), fileSystem: fileSystem, logger: quietLogger)
    }

    func names(in queue: QueueName) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/\(queue)")) ?? []).sorted()
    }

    func path(_ queue: QueueName, _ name: String) -> String { "\(directory)/\(queue)/\(name)" }

    /// Queues a message and returns its ID.
    @discardableResult
    func enqueue(_ envelope: QueueEnvelope = sampleEnvelope(), content: String = sampleContent) async throws -> QueueID {
        try await store.enqueue(envelope, content: content)
    }
}

extension QueueStore {
    /// Queues a message and returns its ID.
    @discardableResult
    func enqueue(_ envelope: QueueEnvelope = sampleEnvelope(), content: String = sampleContent) async throws -> QueueID {
        let writer = try makeWriter(envelope: envelope)
        try writer.append(content)
        return try await commit(writer)
    }
}

/// Tests check what the queue does, not what it logs; `SEALPOST_TEST_LOG=1` shows the lines.
let quietLogger: Logger = {
    var logger = Logger(label: "sealpost.queue.test")
    logger.logLevel = ProcessInfo.processInfo.environment["SEALPOST_TEST_LOG"] == nil ? .critical : .trace
    return logger
}()

func sampleEnvelope(recipients: Int = 2) -> QueueEnvelope {
    QueueEnvelope(
        sender: "alice@example.org",
        recipients: (0..<recipients).map { QueueRecipient(address: "user\($0)@example.net") },
        clientName: "mail.example.org", clientAddress: "192.0.2.10", clientPort: "41234", heloName: "mail.example.org",
        protocolName: "ESMTPS")
}

let sampleContent = """
    Received: from mail.example.org (mail.example.org [192.0.2.10])\r
    \tby mx.example.net (Sealpost) with ESMTPS id TEST\r
    Subject: hello\r
    \r
    body line\r

    """

/// Writes a file with plain POSIX calls (Foundation's `Data.write` fsyncs, which makes loops of
/// thousands of fixtures slow).
func writeFile(_ path: String, _ bytes: some Collection<UInt8>) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard descriptor >= 0 else { throw SystemCallError("open \(path)", errno: errno) }
    defer { close(descriptor) }
    let array = Array(bytes)
    let written = array.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == array.count else { throw SystemCallError("write \(path)", errno: errno) }
}

/// Content that names its queue ID, so a recovered file can be checked against what was sent.
func content(for id: QueueID, size: Int = 4096) -> [UInt8] {
    var bytes = Array("Subject: message \(id)\r\n\r\n".utf8)
    var line = 0
    while bytes.count < size {
        bytes += Array("\(id) line \(line) 0123456789abcdefghijklmnopqrstuvwxyz\r\n".utf8)
        line += 1
    }
    return Array(bytes.prefix(size))
}

/// The system file system with every call logged and failures injectable, for checking the
/// order of syncs and renames and for ENOSPC/EIO at any step.
final class RecordingFileSystem: QueueFileSystem {
    enum Call: String, Sendable, Hashable {
        case open, openDirectory, close, write, read, status, truncate
        case dataSync, directorySync, fileSystemSync, rename, remove, lock, list, space, changeMode, duplicate
    }

    struct Event: Sendable {
        var call: Call
        var descriptor: Int32?
        var name: String?
        var newName: String?
    }

    /// Returns an errno to make the call fail with, or nil to let it run.
    typealias Fault = @Sendable (Call, String?) -> Int32?

    private let system = SystemFileSystem()
    private let log = TestLocked<[Event]>([])
    private let fault = TestLocked<Fault?>(nil)

    init() {}

    var events: [Event] { log.withLock { $0 } }

    func count(_ call: Call) -> Int { log.withLock { $0.filter { $0.call == call }.count } }

    func inject(_ newFault: Fault?) { fault.withLock { $0 = newFault } }

    func reset() { log.withLock { $0.removeAll() } }

    private func record(_ call: Call, _ descriptor: Int32? = nil, _ name: String? = nil, _ newName: String? = nil) throws(SystemCallError) {
        log.withLock { $0.append(Event(call: call, descriptor: descriptor, name: name, newName: newName)) }
        try checkFault(call, name)
    }

    private func checkFault(_ call: Call, _ name: String?) throws(SystemCallError) {
        if let code = fault.withLock({ $0 })?(call, name) { throw SystemCallError(call.rawValue, errno: code) }
    }

    func openDirectory(_ path: String) throws(SystemCallError) -> Int32 {
        try checkFault(.openDirectory, path)
        let descriptor = try system.openDirectory(path)
        log.withLock { $0.append(Event(call: .openDirectory, descriptor: descriptor, name: path)) }
        return descriptor
    }

    func makeDirectory(_ path: String, mode: mode_t) throws(SystemCallError) {
        try system.makeDirectory(path, mode: mode)
    }

    func open(_ name: String, in directory: Int32, flags: Int32, mode: mode_t) throws(SystemCallError) -> Int32 {
        try checkFault(.open, name)
        let descriptor = try system.open(name, in: directory, flags: flags, mode: mode)
        log.withLock { $0.append(Event(call: .open, descriptor: descriptor, name: name)) }
        return descriptor
    }

    func close(_ descriptor: Int32) {
        log.withLock { $0.append(Event(call: .close, descriptor: descriptor)) }
        system.close(descriptor)
    }

    func duplicate(_ descriptor: Int32) throws(SystemCallError) -> Int32 {
        try checkFault(.duplicate, nil)
        let copy = try system.duplicate(descriptor)
        log.withLock { $0.append(Event(call: .duplicate, descriptor: copy, name: "\(descriptor)")) }
        return copy
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemCallError) {
        try record(.write, descriptor)
        try system.write(descriptor, bytes, at: offset)
    }

    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemCallError) -> Int {
        try record(.read, descriptor)
        return try system.read(descriptor, into: buffer, at: offset)
    }

    func status(_ descriptor: Int32) throws(SystemCallError) -> FileStatus {
        try record(.status, descriptor)
        return try system.status(descriptor)
    }

    func changeMode(_ descriptor: Int32, _ mode: mode_t) throws(SystemCallError) {
        try record(.changeMode, descriptor)
        try system.changeMode(descriptor, mode)
    }

    func truncate(_ descriptor: Int32, to length: Int64) throws(SystemCallError) {
        try record(.truncate, descriptor)
        try system.truncate(descriptor, to: length)
    }

    func synchronizeData(_ descriptor: Int32) throws(SystemCallError) {
        try record(.dataSync, descriptor)
        try system.synchronizeData(descriptor)
    }

    func synchronize(_ descriptor: Int32) throws(SystemCallError) {
        try record(.directorySync, descriptor)
        try system.synchronize(descriptor)
    }

    func synchronizeFileSystem(_ descriptor: Int32) throws(SystemCallError) {
        try record(.fileSystemSync, descriptor)
        try system.synchronizeFileSystem(descriptor)
    }

    func startWriteback(_ descriptor: Int32) {
        system.startWriteback(descriptor)
    }

    func rename(_ name: String, in directory: Int32, to newName: String, in newDirectory: Int32, replacing: Bool) throws(SystemCallError) {
        try record(.rename, directory, name, newName)
        try system.rename(name, in: directory, to: newName, in: newDirectory, replacing: replacing)
    }

    func remove(_ name: String, in directory: Int32) throws(SystemCallError) {
        try record(.remove, directory, name)
        try system.remove(name, in: directory)
    }

    func lock(_ descriptor: Int32, exclusive: Bool, nonBlocking: Bool) throws(SystemCallError) -> Bool {
        try record(.lock, descriptor)
        return try system.lock(descriptor, exclusive: exclusive, nonBlocking: nonBlocking)
    }

    func listDirectory(_ directory: Int32) throws(SystemCallError) -> [String] {
        try record(.list, directory)
        return try system.listDirectory(directory)
    }

    func availableSpace(_ descriptor: Int32) throws(SystemCallError) -> FileSystemSpace {
        try record(.space, descriptor)
        return try system.availableSpace(descriptor)
    }
}

/// The system file system with free space reported as chosen, or with syncs skipped for tests
/// that check formats rather than durability (fsync dominates their run time otherwise).
struct AdjustedFileSystem: QueueFileSystem {
    let base = SystemFileSystem()
    var space: FileSystemSpace?
    var syncs = true

    func availableSpace(_ descriptor: Int32) throws(SystemCallError) -> FileSystemSpace {
        if let space { return space }
        return try base.availableSpace(descriptor)
    }

    func synchronizeData(_ descriptor: Int32) throws(SystemCallError) { if syncs { try base.synchronizeData(descriptor) } }
    func synchronize(_ descriptor: Int32) throws(SystemCallError) { if syncs { try base.synchronize(descriptor) } }
    func synchronizeFileSystem(_ descriptor: Int32) throws(SystemCallError) { if syncs { try base.synchronizeFileSystem(descriptor) } }

    func openDirectory(_ path: String) throws(SystemCallError) -> Int32 { try base.openDirectory(path) }
    func makeDirectory(_ path: String, mode: mode_t) throws(SystemCallError) { try base.makeDirectory(path, mode: mode) }
    func open(_ name: String, in directory: Int32, flags: Int32, mode: mode_t) throws(SystemCallError) -> Int32 {
        try base.open(name, in: directory, flags: flags, mode: mode)
    }
    func close(_ descriptor: Int32) { base.close(descriptor) }
    func duplicate(_ descriptor: Int32) throws(SystemCallError) -> Int32 { try base.duplicate(descriptor) }
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SystemCallError) {
        try base.write(descriptor, bytes, at: offset)
    }
    func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemCallError) -> Int {
        try base.read(descriptor, into: buffer, at: offset)
    }
    func status(_ descriptor: Int32) throws(SystemCallError) -> FileStatus { try base.status(descriptor) }
    func changeMode(_ descriptor: Int32, _ mode: mode_t) throws(SystemCallError) { try base.changeMode(descriptor, mode) }
    func truncate(_ descriptor: Int32, to length: Int64) throws(SystemCallError) { try base.truncate(descriptor, to: length) }
    func startWriteback(_ descriptor: Int32) { if syncs { base.startWriteback(descriptor) } }
    func rename(_ name: String, in directory: Int32, to newName: String, in newDirectory: Int32, replacing: Bool) throws(SystemCallError) {
        try base.rename(name, in: directory, to: newName, in: newDirectory, replacing: replacing)
    }
    func remove(_ name: String, in directory: Int32) throws(SystemCallError) { try base.remove(name, in: directory) }
    func lock(_ descriptor: Int32, exclusive: Bool, nonBlocking: Bool) throws(SystemCallError) -> Bool {
        try base.lock(descriptor, exclusive: exclusive, nonBlocking: nonBlocking)
    }
    func listDirectory(_ directory: Int32) throws(SystemCallError) -> [String] { try base.listDirectory(directory) }
}

/// Skips fsync: for tests of formats and recovery logic, not of durability.
let unsynced = AdjustedFileSystem(syncs: false)
