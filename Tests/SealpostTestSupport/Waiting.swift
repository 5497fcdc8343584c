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
