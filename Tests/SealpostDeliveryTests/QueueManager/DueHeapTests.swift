import SealpostQueue
import SealpostTestSupport
import Testing

@testable import SealpostDelivery

@Suite struct DueHeapTests {
    static func id(_ n: Int) -> QueueID { QueueID(seconds: 1_700_000_000, microseconds: UInt32(n), inode: UInt64(n + 1)) }

    @Test func popsDueMessagesInTimeOrderAndHonoursChangesAndRemovals() {
        var heap = DueHeap()
        var generator = SeededGenerator(seed: 7)
        var expected: [Int: Int64] = [:]
        for n in 0..<2000 {
            let time = Int64.random(in: 0..<10_000, using: &generator)
            heap.set(Self.id(n), QueueTimestamp(seconds: time))
            expected[n] = time
        }
        // Reschedule some, remove others: the stale entries must never come out.
        for n in stride(from: 0, to: 2000, by: 3) {
            heap.set(Self.id(n), QueueTimestamp(seconds: 20_000 + Int64(n)))
            expected[n] = 20_000 + Int64(n)
        }
        for n in stride(from: 1, to: 2000, by: 5) {
            heap.remove(Self.id(n))
            expected[n] = nil
        }
        #expect(heap.count == expected.count)
        let due = heap.popDue(QueueTimestamp(seconds: 5000))
        let wanted = expected.filter { $0.value <= 5000 }
        #expect(due.count == wanted.count)
        #expect(Set(due) == Set(wanted.keys.map(Self.id)))
        let times = due.map { id in wanted.first { Self.id($0.key) == id }!.value }
        #expect(times == times.sorted())
        #expect(heap.earliest().map { $0.seconds > 5000 } == true)
        #expect(heap.removeAll().count == expected.count - wanted.count)
        #expect(heap.count == 0 && heap.earliest() == nil)
    }
}
