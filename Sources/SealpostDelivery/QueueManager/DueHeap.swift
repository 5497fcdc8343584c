import SealpostQueue

/// Deferred messages ordered by the time they are due: a binary min-heap with lazy deletion, so
/// that a queue of 100,000 deferred messages costs O(log n) per change instead of a scan.
struct DueHeap {
    private var heap: [(time: QueueTimestamp, id: QueueID)] = []
    /// The current due time of each message; heap entries that disagree are stale.
    private(set) var times: [QueueID: QueueTimestamp] = [:]

    var count: Int { times.count }

    subscript(id: QueueID) -> QueueTimestamp? { times[id] }

    mutating func set(_ id: QueueID, _ time: QueueTimestamp) {
        times[id] = time
        heap.append((time, id))
        siftUp(heap.count - 1)
    }

    mutating func remove(_ id: QueueID) {
        times[id] = nil
        if heap.count > 64, heap.count > times.count * 4 { rebuild() }
    }

    /// The earliest due time.
    mutating func earliest() -> QueueTimestamp? {
        dropStale()
        return heap.first?.time
    }

    /// Removes and returns the messages due at `now`, earliest first.
    mutating func popDue(_ now: QueueTimestamp) -> [QueueID] {
        var due: [QueueID] = []
        while true {
            dropStale()
            guard let top = heap.first, top.time <= now else { break }
            popTop()
            times[top.id] = nil
            due.append(top.id)
        }
        return due
    }

    /// Every message, due or not (a flush).
    mutating func removeAll() -> [QueueID] {
        let all = times.keys.sorted()
        times = [:]
        heap = []
        return all
    }

    private mutating func dropStale() {
        while let top = heap.first, times[top.id] != top.time { popTop() }
    }

    private mutating func rebuild() {
        heap = times.map { ($0.value, $0.key) }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func popTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].time < heap[parent].time else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].time < heap[smallest].time { smallest = left }
            if right < heap.count, heap[right].time < heap[smallest].time { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
