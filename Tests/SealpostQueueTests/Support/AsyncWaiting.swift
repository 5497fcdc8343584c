/// Waits until `condition` holds, sleeping between polls without blocking a thread of the
/// cooperative pool (the work being waited for may need it); false after `timeout` seconds.
func eventually(timeout: Double = 20, _ condition: () throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .milliseconds(Int(timeout * 1000)))
    while clock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}
