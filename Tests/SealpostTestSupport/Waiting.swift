import Foundation

/// Waits until `condition` holds, polling; fails the wait after `timeout` seconds.
public func waitUntil(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// Waits until `condition` holds, sleeping between polls without blocking a thread of the
/// cooperative pool (the work being waited for may need it); false after `timeout` seconds.
public func eventually(timeout: Double = 20, _ condition: () throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .milliseconds(Int(timeout * 1000)))
    while clock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// Runs blocking `work` (a child process to wait for, a long poll) on a thread of its own and
/// awaits it, so that the test does not hold one of Swift's cooperative threads meanwhile: on a
/// 2-CPU machine two tests blocking for minutes leave no thread for the async tests, whose
/// services then miss their deadlines. `work` must not record issues (`#expect` belongs to the
/// test's task): return what to check instead.
public func offCooperativePool<T>(_ work: @escaping () throws -> T) async throws -> T {
    let job = UncheckedBox(work)
    let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UncheckedBox<T>, any Error>) in
        let thread = Thread {
            do {
                continuation.resume(returning: UncheckedBox(try job.value()))
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.start()
    }
    return result.value
}

/// A value handed to another thread by a caller that waits for that thread to finish with it.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Whether this test process runs under AddressSanitizer (`Scripts/sanitize address` sets
/// ASAN_OPTIONS): its quarantine and shadow memory make resident-size checks meaningless there.
public let underAddressSanitizer = ProcessInfo.processInfo.environment["ASAN_OPTIONS"] != nil
