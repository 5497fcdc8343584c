/// What reading a committed queue file's header, envelope and state journal found.
struct MessageFileContents: Sendable {
    var header: FileHeader
    var envelope: QueueEnvelope
    var states: [RecipientState]
    var fileSize: Int64
    var inode: UInt64
    /// The end of the last valid journal record: where the next record goes.
    var journalEnd: Int64
    var journalRecords: Int
    /// Why bytes after `journalEnd` were ignored (a torn last append), if there are any.
    var tornTail: String?

    var arrival: QueueTimestamp { envelope.arrival ?? QueueTimestamp(microsecondsSinceEpoch: 0) }
}

/// Reads queue files without reading their content: the header says where the envelope ends and
/// where the journal starts, so listing and recovery cost a few small reads per message.
enum MessageFileReader {
    static let contentEndRecordSize = RecordFraming.overhead + 12

    /// Reads and validates a sealed queue file. `.corrupt` means the file must be quarantined;
    /// `.io` means it could not be read and says nothing about the file.
    static func read(_ descriptor: Int32, fileSystem: any QueueFileSystem, name: String) throws(QueueError) -> MessageFileContents {
        do {
            return try readChecked(descriptor, fileSystem: fileSystem)
        } catch {
            switch error {
            case .io(let error): throw QueueError(error, while: "read queue file \(name)")
            case .format(let problem): throw QueueError(.corrupt, "\(name): \(problem)")
            }
        }
    }

    private enum Failure: Error {
        case io(SystemCallError)
        case format(FormatProblem)
    }

    private static func readChecked(_ descriptor: Int32, fileSystem: any QueueFileSystem) throws(Failure) -> MessageFileContents {
        let status: FileStatus
        do { status = try fileSystem.status(descriptor) } catch { throw .io(error) }
        guard status.isRegularFile else { throw .format(FormatProblem("not a regular file")) }
        let size = status.size
        let headerBytes = try readBytes(descriptor, fileSystem: fileSystem, at: 0, count: FileHeader.size)
        let header: FileHeader
        do { header = try FileHeader.decode(headerBytes[...]) } catch { throw .format(error) }
        guard header.sealed else { throw .format(FormatProblem("file was never committed (header not sealed)")) }
        guard header.journalOffset <= UInt64(size) else {
            throw .format(FormatProblem("file is \(size) bytes, shorter than its content (\(header.journalOffset))"))
        }
        guard header.journalOffset - header.contentOffset >= UInt64(contentEndRecordSize) else {
            throw .format(FormatProblem("content area too small"))
        }

        let envelopeBytes = try readBytes(
            descriptor, fileSystem: fileSystem, at: Int64(FileHeader.size),
            count: Int(header.contentOffset) - FileHeader.size)
        let envelope: QueueEnvelope
        do { envelope = try EnvelopeCoding.decode(envelopeBytes[...]) } catch { throw .format(error) }
        guard envelope.recipients.count == Int(header.recipientCount) else {
            throw .format(FormatProblem("header counts \(header.recipientCount) recipients, envelope has \(envelope.recipients.count)"))
        }

        let endBytes = try readBytes(
            descriptor, fileSystem: fileSystem, at: Int64(header.journalOffset) - Int64(contentEndRecordSize),
            count: contentEndRecordSize)
        guard case .record(let type, let payload, _) = RecordFraming.parse(endBytes[...], at: 0),
            type == RecordType.contentEnd.rawValue
        else { throw .format(FormatProblem("content end record missing or damaged")) }
        var reader = ByteReader(endBytes[payload])
        let length: UInt64, checksum: UInt32
        do {
            length = try reader.readUInt64()
            checksum = try reader.readUInt32()
        } catch {
            throw .format(error)
        }
        guard length == header.contentLength, checksum == header.contentChecksum else {
            throw .format(FormatProblem("content end record disagrees with the header"))
        }

        let journalBytes = try readBytes(
            descriptor, fileSystem: fileSystem, at: Int64(header.journalOffset), count: Int(size - Int64(header.journalOffset)))
        var states = [RecipientState](repeating: RecipientState(), count: envelope.recipients.count)
        var offset = 0
        var records = 0
        var tornTail: String?
        scan: while offset < journalBytes.count {
            switch RecordFraming.parse(journalBytes[...], at: offset) {
            case .record(let type, let payload, let next):
                do {
                    try JournalEntry.decode(type: type, payload: journalBytes[payload])?.apply(to: &states)
                } catch {
                    throw .format(FormatProblem("state journal record \(records + 1): \(error)"))
                }
                records += 1
                offset = next
            case .incomplete:
                tornTail = "\(journalBytes.count - offset) bytes of an incomplete journal record"
                break scan
            case .invalid(let why):
                tornTail = "\(journalBytes.count - offset) bytes after a damaged journal record (\(why))"
                break scan
            }
        }
        return MessageFileContents(
            header: header, envelope: envelope, states: states, fileSize: size, inode: status.inode,
            journalEnd: Int64(header.journalOffset) + Int64(offset), journalRecords: records, tornTail: tornTail)
    }

    private static func readBytes(_ descriptor: Int32, fileSystem: any QueueFileSystem, at offset: Int64, count: Int) throws(Failure) -> [UInt8] {
        guard count >= 0 else { throw .format(FormatProblem("negative extent")) }
        let bytes: [UInt8]
        do { bytes = try fileSystem.read(descriptor, count: count, at: offset) } catch { throw .io(error) }
        guard bytes.count == count else { throw .format(FormatProblem("file ends early")) }
        return bytes
    }
}
