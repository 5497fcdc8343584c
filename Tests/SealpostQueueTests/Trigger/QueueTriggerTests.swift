import Foundation
import SealpostQueue
import SealpostTestSupport
import Testing

@Suite("Queue trigger FIFOs")
struct QueueTriggerTests {
    @Test("no FIFO, or a FIFO nobody reads: the daemon is not running, which is no error")
    func noDaemon() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/qmgr"
        #expect(try QueueTrigger.send(.scanActive, to: path) == false)
        #expect(mkfifo(path, 0o622) == 0)
        #expect(try QueueTrigger.send(.scanActive, to: path) == false)
    }

    @Test("a regular file where the FIFO should be is refused, not appended to")
    func notAFIFO() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("qmgr", "")
        #expect(throws: QueueTriggerError.self) { try QueueTrigger.send(.flushDeferred, to: path) }
        #expect(try directory.read("qmgr") == "")
    }

    @Test("the listener makes the FIFO with its mode and yields each request")
    func listenerYieldsRequests() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/qmgr"
        try directory.write("qmgr", "stale regular file")
        let listener = try QueueTriggerListener(path: path, mode: 0o622)
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & S_IFMT == S_IFIFO)
        #expect(status.st_mode & 0o7777 == 0o622)

        var iterator = listener.requests.makeAsyncIterator()
        for request in QueueTriggerRequest.allCases {
            #expect(try QueueTrigger.send(request, to: path))
            #expect(await iterator.next() == request)
        }
        listener.close()
        #expect(await iterator.next() == nil)
    }

    @Test("the listener gives the FIFO to its owner (mail_owner)")
    func owner() throws {
        guard geteuid() == 0 else { return }  // chown needs root
        let directory = try TemporaryDirectory()
        let path = directory.path + "/qmgr"
        let listener = try QueueTriggerListener(path: path, mode: 0o622, owner: (uid: 65534, gid: 65534))
        defer { listener.close() }
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_uid == 65534 && status.st_gid == 65534)
        #expect(status.st_mode & 0o7777 == 0o622)
    }

    @Test("bytes that arrive together are coalesced per request; unknown bytes are ignored")
    func coalescing() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/qmgr"
        let listener = try QueueTriggerListener(path: path)
        // One write of several bytes is read at once.
        let writer = open(path, O_WRONLY | O_NONBLOCK)
        #expect(writer >= 0)
        let bytes = Array("IIxIDz".utf8)
        #expect(write(writer, bytes, bytes.count) == bytes.count)
        close(writer)
        var iterator = listener.requests.makeAsyncIterator()
        #expect(await iterator.next() == .scanActive)
        #expect(await iterator.next() == .flushDeferred)
        listener.close()
        #expect(await iterator.next() == nil)
    }

    @Test("cancelling the consumer stops the listener")
    func cancellation() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/pickup"
        let listener = try QueueTriggerListener(path: path)
        let received = TestLocked(0)
        let consumer = Task {
            for await _ in listener.requests { received.withLock { $0 += 1 } }
        }
        #expect(try QueueTrigger.send(.pickup, to: path))
        #expect(await eventually { received.withLock { $0 } == 1 })
        consumer.cancel()
        await consumer.value
        // The stream is finished: a new iterator ends at once.
        var iterator = listener.requests.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }
}
