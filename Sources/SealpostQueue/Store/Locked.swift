#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex.
///
/// `Synchronization.Mutex` would do, but on Linux it locks with raw futex calls that
/// ThreadSanitizer cannot see, so every access under it is reported as a race — and the suite
/// must pass under TSan (issue 8). A pthread mutex is intercepted and understood.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
