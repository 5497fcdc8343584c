#if canImport(Glibc)
import Glibc
#endif

/// The daemon's end of a trigger FIFO: creates it and yields the requests written to it.
///
/// The FIFO is made afresh at `path` (anything there before is removed, as Postfix's master
/// does), with `mode` applied regardless of the umask and `owner` when given, then opened
/// O_RDWR|O_NONBLOCK: holding a write end of our own means the FIFO never reports end-of-file
/// when a writer closes, and writers find a reader for as long as the listener lives.
///
/// A background thread waits in poll(2) on the FIFO and on a wake-up pipe, so `close()` (or
/// cancelling the consumer of `requests`) stops it promptly. Requests are coalesced per read:
/// several `I` bytes that arrived together yield one `.scanActive`, as one scan serves them all.
/// Bytes that are no request are ignored.
public final class QueueTriggerListener: Sendable {
    public let path: String
    /// The requests, in arrival order; finishes when the listener is closed. One consumer.
    public let requests: AsyncStream<QueueTriggerRequest>
    private let reader: Reader

    public init(path: String, mode: mode_t = 0o622, owner: (uid: uid_t, gid: gid_t)? = nil) throws(QueueTriggerError) {
        self.path = path
        if unlink(path) != 0, errno != ENOENT { throw QueueTriggerError(path: path, operation: "remove", errno: errno) }
        guard mkfifo(path, mode) == 0 else { throw QueueTriggerError(path: path, operation: "mkfifo", errno: errno) }
        let descriptor = open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw QueueTriggerError(path: path, operation: "open", errno: errno) }
        var wakeUp: [Int32] = [-1, -1]
        do throws(QueueTriggerError) {
            guard fchmod(descriptor, mode) == 0 else { throw QueueTriggerError(path: path, operation: "chmod", errno: errno) }
            if let owner, fchown(descriptor, owner.uid, owner.gid) != 0 {
                throw QueueTriggerError(path: path, operation: "chown", errno: errno)
            }
            guard pipe(&wakeUp) == 0 else { throw QueueTriggerError(path: path, operation: "pipe", errno: errno) }
            for end in wakeUp {
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                _ = fcntl(end, F_SETFL, O_NONBLOCK)
            }
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        let (stream, continuation) = AsyncStream.makeStream(of: QueueTriggerRequest.self, bufferingPolicy: .bufferingNewest(64))
        requests = stream
        reader = Reader(fifo: descriptor, wakeRead: wakeUp[0], wakeWrite: wakeUp[1], continuation: continuation)
        let reader = self.reader
        continuation.onTermination = { _ in reader.stop() }
        do throws(QueueTriggerError) { try reader.start() } catch {
            reader.closeDescriptors()
            throw QueueTriggerError(path: path, operation: error.operation, errno: error.errno)
        }
    }

    deinit {
        reader.stop()
    }

    /// Stops reading and finishes `requests`; the FIFO stays (a later listener replaces it).
    public func close() {
        reader.stop()
    }
}

/// The thread that reads the FIFO. Its descriptors are closed by the thread itself on exit, so
/// nothing closes them while poll(2) still waits on them.
private final class Reader: @unchecked Sendable {
    // Written once before the thread starts, then only read; `stopped` is guarded by `lock`.
    let fifo: Int32
    let wakeRead: Int32
    let wakeWrite: Int32
    let continuation: AsyncStream<QueueTriggerRequest>.Continuation
    /// Heap-allocated: a pthread mutex must not move, which a stored property's address may.
    private let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
        return lock
    }()
    private var stopped = false
    private var started = false

    init(fifo: Int32, wakeRead: Int32, wakeWrite: Int32, continuation: AsyncStream<QueueTriggerRequest>.Continuation) {
        self.fifo = fifo
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
        self.continuation = continuation
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    func start() throws(QueueTriggerError) {
        pthread_mutex_lock(lock)
        started = true
        pthread_mutex_unlock(lock)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            let reader = Unmanaged<Reader>.fromOpaque(context!).takeRetainedValue()
            reader.loop()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Reader>.fromOpaque(context).release()
            pthread_mutex_lock(lock)
            started = false
            pthread_mutex_unlock(lock)
            throw QueueTriggerError(path: "", operation: "start reader thread for", errno: result)
        }
        pthread_detach(thread)
    }

    /// Wakes the thread; it finishes the stream and closes the descriptors. Idempotent. The
    /// wake-up byte is written under the lock the exiting thread takes to close the pipe, so it
    /// never goes to a closed (or reused) descriptor.
    func stop() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard !stopped else { return }
        stopped = true
        if started {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        } else {
            continuation.finish()
        }
    }

    /// For a reader whose thread never started.
    func closeDescriptors() {
        close(fifo)
        close(wakeRead)
        close(wakeWrite)
    }

    private func loop() {
        defer {
            continuation.finish()
            pthread_mutex_lock(lock)
            stopped = true
            closeDescriptors()
            pthread_mutex_unlock(lock)
        }
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            var descriptors = [pollfd(fd: fifo, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if descriptors[1].revents != 0 { return }
            guard descriptors[0].revents != 0 else { continue }
            let count = read(fifo, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            var seen: [QueueTriggerRequest] = []
            for byte in buffer[0..<count] {
                guard let request = QueueTriggerRequest(rawValue: byte), !seen.contains(request) else { continue }
                seen.append(request)
            }
            for request in seen { continuation.yield(request) }
        }
    }
}
