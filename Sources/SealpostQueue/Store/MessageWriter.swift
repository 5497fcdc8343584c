#if canImport(Glibc)
import Glibc
#endif

/// A message being written into the queue: created when the transaction needs a queue ID, fed
/// the content as it arrives, then committed with `QueueStore.commit(_:)` or abandoned with
/// `abort()`.
///
/// The file lives in `incoming` under a temporary name, locked (flock) so that a recovery run by
/// another process leaves it alone. Content is framed into checksummed records and written in
/// chunks of `contentChunkSize`, so a session never buffers a whole message. Nothing here is
/// durable or visible to the scheduler until the commit returns; a writer that is aborted,
/// fails, or is released without a commit removes its file.
///
/// Calls block briefly on write(2) to the page cache; the fsync happens in `commit`.
public final class MessageWriter: Sendable {
    /// The message's queue ID, final from creation (Postfix logs it with the client at this point).
    public let id: QueueID
    let temporaryName: String
    private let store: QueueStore
    private let state: Locked<State>

    private enum Phase {
        case open
        case committing
        case finished
        case failed(QueueError)
    }

    private struct State {
        var phase: Phase = .open
        var descriptor: Int32
        var envelope: QueueEnvelope
        /// Bytes not yet written; they belong at `fileOffset`.
        var buffer = ByteWriter(capacity: 0)
        var fileOffset: Int64 = 0
        var started = false
        var contentOffset: Int64 = 0
        /// Where the content record being filled starts in `buffer`.
        var openRecord: Int?
        var openRecordPayload = 0
        var contentLength: Int64 = 0
        var contentChecksum = CRC32C()
    }

    /// The file is a spare (`SpareFiles`): it is cut to the message's length before the commit.
    let reusesFile: Bool

    init(
        id: QueueID, temporaryName: String, descriptor: Int32, envelope: QueueEnvelope, store: QueueStore,
        reusesFile: Bool = false
    ) {
        self.id = id
        self.temporaryName = temporaryName
        self.reusesFile = reusesFile
        self.store = store
        state = Locked(State(descriptor: descriptor, envelope: envelope))
    }

    deinit {
        abort()
    }

    /// The envelope as it will be written.
    public var envelope: QueueEnvelope {
        state.withLock { $0.envelope }
    }

    /// Changes the envelope (a recipient accepted after the writer was made); only before the
    /// first content byte, as the envelope precedes the content in the file.
    public func updateEnvelope(_ change: (inout QueueEnvelope) -> Void) throws(QueueError) {
        try state.withLock { state throws(QueueError) in
            try Self.checkOpen(state)
            guard !state.started else { throw QueueError(.invalidUse, "\(id): envelope changed after the content started") }
            let arrival = state.envelope.arrival
            change(&state.envelope)
            state.envelope.arrival = state.envelope.arrival ?? arrival
        }
    }

    /// Appends content bytes (header and body as received, dot-unstuffed, CRLF line ends).
    ///
    /// A write failure (ENOSPC, EIO) removes the file at once and is thrown now and again by
    /// `commit`; the server keeps reading the client's data and answers at the end.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(QueueError) {
        try state.withLock { state throws(QueueError) in
            try Self.checkOpen(state)
            if !state.started { start(&state) }
            let chunkSize = store.configuration.contentChunkSize
            var offset = 0
            while offset < bytes.count {
                if state.openRecord == nil {
                    state.openRecord = state.buffer.count
                    state.openRecordPayload = 0
                    state.buffer.append(UInt32(0))
                    state.buffer.append(RecordType.contentChunk.rawValue)
                }
                let take = min(chunkSize - state.openRecordPayload, bytes.count - offset)
                let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)])
                state.buffer.bytes.append(contentsOf: piece)
                state.contentChecksum.update(piece)
                state.contentLength += Int64(take)
                state.openRecordPayload += take
                offset += take
                if state.openRecordPayload == chunkSize { closeRecord(&state) }
            }
            if state.buffer.count >= chunkSize { try flushClosedRecords(&state) }
        }
    }

    public func append(_ bytes: [UInt8]) throws(QueueError) {
        var failure: QueueError?
        bytes.withUnsafeBytes { raw in
            do throws(QueueError) { try append(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public func append(_ text: String) throws(QueueError) {
        try append(Array(text.utf8))
    }

    /// Content bytes appended so far.
    public var contentLength: Int {
        state.withLock { Int($0.contentLength) }
    }

    /// Abandons the message (client gone, RSET, rejected content): the file is removed. Does
    /// nothing once a commit has begun or ended.
    public func abort() {
        state.withLock { state in
            guard case .open = state.phase else { return }
            discard(&state, failure: nil)
        }
    }

    // MARK: - Commit (called by QueueStore)

    /// Writes the remaining records and the sealed header; returns the descriptor to sync.
    func prepareCommit() throws(QueueError) -> Int32 {
        try state.withLock { state throws(QueueError) in
            try Self.checkOpen(state)
            guard !state.envelope.recipients.isEmpty else {
                let failure = QueueError(.invalidUse, "\(id): commit without recipients")
                discard(&state, failure: failure)
                throw failure
            }
            if !state.started { start(&state) }
            if state.openRecord != nil { closeRecord(&state) }
            RecordFraming.append(.contentEnd, to: &state.buffer) { payload in
                payload.append(UInt64(state.contentLength))
                payload.append(state.contentChecksum.value)
            }
            let header = FileHeader(
                sealed: true, contentOffset: UInt64(state.contentOffset),
                journalOffset: UInt64(state.fileOffset) + UInt64(state.buffer.count),
                contentLength: UInt64(state.contentLength), contentChecksum: state.contentChecksum.value,
                recipientCount: UInt32(state.envelope.recipients.count)
            ).encoded()
            do throws(SystemCallError) {
                if state.fileOffset == 0 {
                    state.buffer.bytes.replaceSubrange(0..<FileHeader.size, with: header)
                    try write(&state)
                } else {
                    try write(&state)
                    try store.fileSystem.write(state.descriptor, header, at: 0)
                }
                // A spare still holds its last message beyond this one's end.
                if reusesFile { try store.fileSystem.truncate(state.descriptor, to: state.fileOffset) }
            } catch {
                let failure = QueueError(error, while: "write queue file \(id)")
                discard(&state, failure: failure)
                throw failure
            }
            state.phase = .committing
            return state.descriptor
        }
    }

    /// Ends the commit: closes the file (releasing its lock), and on failure removes whatever is left.
    func finishCommit(_ result: Result<Void, QueueError>) {
        state.withLock { state in
            switch result {
            case .success:
                store.fileSystem.close(state.descriptor)
                state.descriptor = -1
                state.phase = .finished
            case .failure(let failure):
                discard(&state, failure: failure)
            }
        }
    }

    // MARK: - Internals

    private static func checkOpen(_ state: State) throws(QueueError) {
        switch state.phase {
        case .open: return
        case .failed(let failure): throw failure
        case .committing, .finished: throw QueueError(.invalidUse, "queue file already committed or aborted")
        }
    }

    /// Puts a provisional (unsealed) header and the envelope records into the buffer.
    private func start(_ state: inout State) {
        let arrival = state.envelope.arrival ?? id.timestamp
        state.envelope.arrival = arrival
        var buffer = ByteWriter(capacity: store.configuration.contentChunkSize + 4096)
        buffer.append(bytes: FileHeader(
            sealed: false, contentOffset: UInt64(FileHeader.size), journalOffset: UInt64(FileHeader.size),
            contentLength: 0, contentChecksum: 0, recipientCount: 0
        ).encoded())
        EnvelopeCoding.encode(state.envelope, arrival: arrival, into: &buffer)
        state.contentOffset = Int64(buffer.count)
        state.buffer = buffer
        state.started = true
    }

    private func closeRecord(_ state: inout State) {
        guard let start = state.openRecord else { return }
        RecordFraming.seal(from: start, in: &state.buffer)
        state.openRecord = nil
    }

    /// Writes the complete records in the buffer and keeps the one being filled.
    private func flushClosedRecords(_ state: inout State) throws(QueueError) {
        let end = state.openRecord ?? state.buffer.count
        guard end > 0 else { return }
        do {
            try store.fileSystem.write(state.descriptor, state.buffer.bytes[0..<end], at: state.fileOffset)
        } catch {
            let failure = QueueError(error, while: "write queue file \(id)")
            discard(&state, failure: failure)
            throw failure
        }
        state.fileOffset += Int64(end)
        state.buffer.bytes.removeSubrange(0..<end)
        if state.openRecord != nil { state.openRecord = 0 }
    }

    private func write(_ state: inout State) throws(SystemCallError) {
        try store.fileSystem.write(state.descriptor, state.buffer.bytes, at: state.fileOffset)
        state.fileOffset += Int64(state.buffer.count)
        state.buffer = ByteWriter(capacity: 0)
    }

    /// Removes the file and closes it; the writer is finished (or failed with `failure`).
    private func discard(_ state: inout State, failure: QueueError?) {
        if state.descriptor >= 0 {
            try? store.fileSystem.remove(temporaryName, in: store.directories.descriptor(.incoming))
            store.fileSystem.close(state.descriptor)
            state.descriptor = -1
        }
        state.buffer = ByteWriter(capacity: 0)
        state.phase = failure.map { .failed($0) } ?? .finished
    }
}
