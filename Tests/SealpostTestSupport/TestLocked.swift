import Foundation

/// A value behind an NSLock. (Synchronization.Mutex locks with futex calls ThreadSanitizer does not
/// see, which would make every access under it a reported race in TSan runs.)
public final class TestLocked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
