#if canImport(Glibc)
import Glibc
#endif

/// Reads a queued message's content — header and body exactly as received — chunk by chunk,
/// for a delivery agent to stream out without holding the message in memory.
///
/// Every chunk's checksum is verified before it is returned; the total length and the checksum of
/// the whole content are verified when the end is reached. A mismatch throws `.corrupt`: the agent
/// must then abandon the delivery (no final dot, no Maildir rename) and quarantine the message.
///
/// The reader has its own file descriptor (a duplicate of the handle's, sharing its lock), so it
/// stays valid when the message is moved or its handle closed. Use it from one task.
public final class MessageContentReader {
    private let fileSystem: any QueueFileSystem
    private var descriptor: Int32
    private let name: String
    private let header: FileHeader
    private var offset: Int64
    private var length: Int64 = 0
    private var checksum = CRC32C()
    private var finished = false

    init(descriptor: Int32, fileSystem: any QueueFileSystem, name: String, header: FileHeader) {
        self.descriptor = descriptor
        self.fileSystem = fileSystem
        self.name = name
        self.header = header
        offset = Int64(header.contentOffset)
    }

    deinit {
        if descriptor >= 0 { fileSystem.close(descriptor) }
    }

    /// The content's length in bytes.
    public var contentLength: Int { Int(header.contentLength) }

    /// The next chunk of content, or nil after the last one.
    public func next() throws(QueueError) -> [UInt8]? {
        guard !finished else { return nil }
        var recordHeader = [UInt8](repeating: 0, count: RecordFraming.headerSize)
        try read(into: &recordHeader, at: offset)
        let payloadLength = Int(recordHeader[0]) | Int(recordHeader[1]) << 8 | Int(recordHeader[2]) << 16
            | Int(recordHeader[3]) << 24
        guard payloadLength <= RecordFraming.maximumPayload,
            offset + Int64(RecordFraming.overhead + payloadLength) <= Int64(header.journalOffset)
        else { throw corrupt("content record length out of range") }
        var record = recordHeader
        let restCount = payloadLength + RecordFraming.trailerSize
        do {
            record += try fileSystem.read(descriptor, count: restCount, at: offset + Int64(RecordFraming.headerSize))
        } catch {
            throw QueueError(error, while: "read queue file \(name)")
        }
        guard record.count == RecordFraming.headerSize + restCount else { throw corrupt("content ends early") }
        guard case .record(let type, let payload, let next) = RecordFraming.parse(record[...], at: 0) else {
            throw corrupt("content record checksum mismatch at offset \(offset)")
        }
        offset += Int64(next)
        switch RecordType(rawValue: type) {
        case .contentChunk:
            let chunk = Array(record[payload])
            checksum.update(chunk)
            length += Int64(chunk.count)
            guard length <= Int64(header.contentLength) else { throw corrupt("content longer than recorded") }
            return chunk
        case .contentEnd:
            finished = true
            guard length == Int64(header.contentLength), checksum.value == header.contentChecksum,
                offset == Int64(header.journalOffset)
            else { throw corrupt("content length or checksum mismatch") }
            close()
            return nil
        default:
            throw corrupt("unexpected record type 0x\(String(type, radix: 16)) in the content")
        }
    }

    /// The whole content (for small messages and tests).
    public func readAll() throws(QueueError) -> [UInt8] {
        var content: [UInt8] = []
        content.reserveCapacity(contentLength)
        while let chunk = try next() { content += chunk }
        return content
    }

    /// Releases the file descriptor early.
    public func close() {
        if descriptor >= 0 { fileSystem.close(descriptor) }
        descriptor = -1
    }

    private func read(into bytes: inout [UInt8], at position: Int64) throws(QueueError) {
        guard descriptor >= 0 else { throw QueueError(.invalidUse, "\(name): content reader closed") }
        let read: [UInt8]
        do { read = try fileSystem.read(descriptor, count: bytes.count, at: position) } catch {
            throw QueueError(error, while: "read queue file \(name)")
        }
        guard read.count == bytes.count else { throw corrupt("content ends early") }
        bytes = read
    }

    private func corrupt(_ why: String) -> QueueError {
        QueueError(.corrupt, "\(name): \(why)")
    }
}
