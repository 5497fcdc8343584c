#if canImport(Glibc)
import Glibc
#endif
import Logging
import SealpostConfig

/// What the pickup service needs from the configuration.
public struct PickupSettings: Sendable, Hashable {
    /// `$queue_directory/maildrop`.
    public var maildropDirectory: String
    /// `myhostname`, for the Received and Message-Id headers.
    public var hostname: String
    /// `myorigin`: appended to unqualified senders and recipients (`append_at_myorigin`).
    public var origin: String
    /// `mail_name`, in the Received header.
    public var mailName: String
    /// `message_size_limit` in bytes; 0 means no limit.
    public var messageSizeLimit: Int
    /// `line_length_limit`: the longest envelope line accepted in a maildrop file.
    public var lineLengthLimit: Int
    /// `header_size_limit`: the octets kept of one message header; 0 means no limit.
    public var headerSizeLimit: Int
    /// How often the directory is scanned without a trigger (Postfix's pickup: 60 s).
    public var scanInterval: Duration

    public init(
        maildropDirectory: String, hostname: String, origin: String, mailName: String = "Sealpost",
        messageSizeLimit: Int = 10_240_000, lineLengthLimit: Int = 2048, headerSizeLimit: Int = 102_400,
        scanInterval: Duration = .seconds(60)
    ) {
        self.maildropDirectory = maildropDirectory
        self.hostname = hostname
        self.origin = origin
        self.mailName = mailName
        self.messageSizeLimit = messageSizeLimit
        self.lineLengthLimit = lineLengthLimit
        self.headerSizeLimit = headerSizeLimit
        self.scanInterval = scanInterval
    }

    /// The settings from main.cf: `queue_directory`, `myhostname`, `myorigin` (when
    /// `append_at_myorigin` is on), `mail_name`, `message_size_limit`, `line_length_limit`,
    /// `header_size_limit`.
    public init(_ configuration: ServiceConfiguration) {
        self.init(
            maildropDirectory: MaildropDirectory.maildropPath(queueDirectory: configuration.string("queue_directory")),
            hostname: configuration.string("myhostname"),
            origin: configuration.bool("append_at_myorigin") ? configuration.string("myorigin") : "",
            mailName: configuration.string("mail_name"),
            messageSizeLimit: configuration.integer("message_size_limit"),
            lineLengthLimit: configuration.integer("line_length_limit"),
            headerSizeLimit: configuration.integer("header_size_limit"))
    }
}

/// Postfix's pickup (and the part of cleanup it feeds) for Sealpost: moves what `sealpost
/// sendmail` left in the maildrop directory into the queue.
///
/// Every maildrop file is hostile input from an arbitrary local user. A file is opened with
/// O_NOFOLLOW|O_NONBLOCK (no symlinks, no FIFOs that block), must be a regular file with one
/// link (a hard link to someone else's file is refused), no larger than the envelope and
/// `message_size_limit` allow, and must parse as `MaildropEnvelope` with exactly the content
/// length it declares. Anything else is removed with a warning; nothing in it can crash the
/// service. The submitting user is the file's owner (fstat: the kernel's word), recorded as
/// the envelope attribute `uid`, never what the file says.
///
/// A file is removed only after its message is committed to the queue: a crash in between
/// queues it a second time on restart (at least once, as in Postfix). A commit that fails
/// (a full disk) leaves the file for the next scan.
public final class PickupService: Sendable {
    public let settings: PickupSettings
    private let store: QueueStore
    private let logger: Logger
    private let onQueued: @Sendable (QueueID) -> Void
    /// Unfinished `.tmp` files older than this are abandoned submissions and removed.
    static let abandonedAge = 24 * 3600

    /// - Parameter onQueued: called with each new message's queue ID (tell the queue manager).
    public init(
        store: QueueStore, settings: PickupSettings, logger: Logger = Logger(label: "sealpost.pickup"),
        onQueued: @escaping @Sendable (QueueID) -> Void
    ) {
        self.store = store
        self.settings = settings
        self.logger = logger
        self.onQueued = onQueued
    }

    /// Scans at once, then on every request from `triggers` and every `scanInterval`, until
    /// the task is cancelled.
    public func run(triggers: AsyncStream<QueueTriggerRequest>?) async {
        let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wake.yield()
        await withTaskGroup(of: Void.self) { group in
            if let triggers {
                group.addTask {
                    for await _ in triggers { wake.yield() }
                }
            }
            let interval = settings.scanInterval
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: interval) } catch { return }
                    wake.yield()
                }
            }
            for await _ in wakeUps {
                if Task.isCancelled { break }
                _ = await scan()
            }
            group.cancelAll()
        }
    }

    /// Picks up every complete file in the maildrop directory; returns the new queue IDs.
    public func scan() async -> [QueueID] {
        let directory = open(settings.maildropDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            logger.warning("open maildrop directory \(settings.maildropDirectory): \(String(cString: strerror(errno)))")
            return []
        }
        defer { close(directory) }
        var queued: [QueueID] = []
        for name in Self.names(in: directory) {
            if Task.isCancelled { break }
            if name.hasSuffix(".tmp") {
                removeIfAbandoned(name, in: directory)
                continue
            }
            guard MaildropWriter.isFinalName(name) else {
                reject(name, in: directory, MaildropProblem("not a maildrop file name"))
                continue
            }
            if let id = await pickUp(name, in: directory) { queued.append(id) }
        }
        return queued
    }

    // MARK: - One file

    private func pickUp(_ name: String, in directory: Int32) async -> QueueID? {
        let file: (bytes: [UInt8], owner: uid_t)
        do throws(MaildropProblem) {
            guard let opened = try readFile(name, in: directory) else { return nil }
            file = opened
        } catch {
            reject(name, in: directory, error)
            return nil
        }
        let envelope: MaildropEnvelope
        let contentOffset: Int
        do throws(MaildropProblem) {
            guard let parsed = try parser.parse(file.bytes[...]) else { throw MaildropProblem("file ends inside the envelope") }
            (envelope, contentOffset) = parsed
            let actual = file.bytes.count - contentOffset
            guard actual == envelope.contentLength else {
                throw MaildropProblem("content is \(actual) bytes, the envelope says \(envelope.contentLength)")
            }
            if settings.messageSizeLimit > 0, actual > settings.messageSizeLimit {
                throw MaildropProblem("message size \(actual) exceeds message_size_limit \(settings.messageSizeLimit)")
            }
        } catch {
            reject(name, in: directory, error)
            return nil
        }
        do {
            let id = try await enqueue(envelope, content: file.bytes[contentOffset...], uid: file.owner)
            if unlinkat(directory, name, 0) != 0 {
                logger.warning("remove maildrop/\(name): \(String(cString: strerror(errno)))")
            }
            _ = fsync(directory)
            onQueued(id)
            return id
        } catch {
            logger.warning("maildrop/\(name): cannot queue the message: \(error); will try again")
            return nil
        }
    }

    /// The file's bytes and owner; nil when it vanished. Throws for files that must go.
    private func readFile(_ name: String, in directory: Int32) throws(MaildropProblem) -> (bytes: [UInt8], owner: uid_t)? {
        let descriptor = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        if descriptor < 0 {
            let error = errno
            if error == ENOENT { return nil }
            if error == ELOOP { throw MaildropProblem("is a symbolic link") }
            throw MaildropProblem("open: \(String(cString: strerror(error)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw MaildropProblem("fstat: \(String(cString: strerror(errno)))") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw MaildropProblem("not a regular file") }
        guard status.st_nlink == 1 else { throw MaildropProblem("has \(status.st_nlink) hard links") }
        let limit = maximumFileSize
        guard Int(status.st_size) <= limit else { throw MaildropProblem("file size \(status.st_size) exceeds the limit \(limit)") }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size) + 1)
        var filled = 0
        // One byte more than fstat said: a file still growing is caught, not cut.
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw MaildropProblem("read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            filled += count
        }
        guard filled <= Int(status.st_size) else { throw MaildropProblem("file changed while being read") }
        bytes.removeSubrange(filled...)
        return (bytes, status.st_uid)
    }

    private func enqueue(_ drop: MaildropEnvelope, content: ArraySlice<UInt8>, uid: uid_t) async throws(QueueError) -> QueueID {
        let sender = qualified(drop.sender)
        var attributes = ["uid": String(uid), "rewrite_context": "local"]
        if let fullName = drop.fullName { attributes["full_name"] = fullName }
        let envelope = QueueEnvelope(
            sender: sender,
            recipients: drop.recipients.map {
                // Postfix records the ORCPT of a local submission as rfc822;address.
                QueueRecipient(address: qualified($0), notify: drop.notify ?? [], originalRecipient: "rfc822;" + qualified($0))
            },
            envelopeID: drop.envelopeID, returnContent: drop.returnContent, bodyType: drop.bodyType,
            attributes: attributes)
        let writer = try store.makeWriter(envelope: envelope)
        var cleanup = LocalSubmissionCleanup(identity: .init(
            hostname: settings.hostname, mailName: settings.mailName, uid: UInt32(uid), queueID: writer.id.text,
            arrival: Int(writer.id.seconds), sender: sender, fullName: drop.fullName),
            headerSizeLimit: settings.headerSizeLimit)
        do {
            try writer.append(cleanup.receivedHeader)
            var offset = content.startIndex
            while offset < content.endIndex {
                let end = min(offset + 64 * 1024, content.endIndex)
                try writer.append(cleanup.feed(content[offset..<end]))
                offset = end
            }
            try writer.append(cleanup.finish())
        } catch {
            writer.abort()
            throw error
        }
        let id = try await store.commit(writer)
        logger.info("\(id): uid=\(uid) from=<\(drop.sender)>")
        if let messageID = cleanup.messageID { logger.info("\(id): message-id=\(messageID)") }
        return id
    }

    /// `user` → `user@$myorigin`; addresses with a domain and the null sender stay as they are.
    func qualified(_ address: String) -> String {
        guard !address.isEmpty, !address.contains("@"), !settings.origin.isEmpty else { return address }
        return address + "@" + settings.origin
    }

    private var parser: MaildropEnvelopeParser {
        MaildropEnvelopeParser(lineLimit: max(settings.lineLengthLimit, 256), envelopeLimit: envelopeLimit)
    }

    /// Envelopes may list many recipients (`sendmail -t` on a long list), not unboundedly many.
    private var envelopeLimit: Int { max(settings.messageSizeLimit, 1 << 20) }

    private var maximumFileSize: Int {
        settings.messageSizeLimit > 0 ? envelopeLimit + settings.messageSizeLimit : Int.max
    }

    private func reject(_ name: String, in directory: Int32, _ problem: MaildropProblem) {
        logger.warning("maildrop/\(name): \(problem); file removed")
        if unlinkat(directory, name, 0) != 0, errno != ENOENT {
            logger.warning("remove maildrop/\(name): \(String(cString: strerror(errno)))")
        }
    }

    private func removeIfAbandoned(_ name: String, in directory: Int32) {
        var status = stat()
        guard fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        guard Int(time(nil)) - Int(status.st_mtim.tv_sec) > Self.abandonedAge else { return }
        reject(name, in: directory, MaildropProblem("unfinished submission abandoned for more than a day"))
    }

    /// The directory's entries, without `.` and `..`, in name order.
    static func names(in directory: Int32) -> [String] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
