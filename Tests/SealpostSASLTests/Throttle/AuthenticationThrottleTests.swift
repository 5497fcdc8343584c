import Testing
@testable import SealpostSASL

@Suite struct AuthenticationThrottleTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int(seconds * 1000)) }

    @Test func unlimitedByDefault() {
        var throttle = AuthenticationThrottle(policy: .init())
        for second in 0..<500 {
            #expect(throttle.authCommand(from: "192.0.2.1", at: at(Double(second) / 10)) == .proceed)
        }
    }

    // anvil: the count starts with the first command, and the window restarts only once
    // start + unit < now; the command that goes over the limit is refused and still counts.
    @Test func authRateLimitAsAnvilCountsIt() {
        var throttle = AuthenticationThrottle(policy: .init(authCommandRateLimit: 3, rateTimeUnit: .seconds(60)))
        #expect(throttle.authCommand(from: "192.0.2.1", at: at(0)) == .proceed)
        #expect(throttle.authCommand(from: "192.0.2.1", at: at(10)) == .proceed)
        #expect(throttle.authCommand(from: "192.0.2.1", at: at(20)) == .proceed)
        #expect(throttle.authCommand(from: "192.0.2.1", at: at(30)) == .rateLimited(count: 4))
        #expect(throttle.authCommand(from: "192.0.2.1", at: at(60)) == .rateLimited(count: 5))
        // Another client has its own count.
        #expect(throttle.authCommand(from: "192.0.2.2", at: at(30)) == .proceed)
        // 60.001 s after the first command the window restarts.
        #expect(throttle.authCommand(from: "192.0.2.1", at: at(60.001)) == .proceed)
        #expect(throttle.authCommand(from: "192.0.2.1", at: at(61)) == .proceed)
    }

    @Test func failedLoginsAreDelayedMoreAndMoreThenCutOff() {
        var throttle = AuthenticationThrottle(policy: .init(failureDelay: .seconds(1), failureLimit: 4, failureWindow: .seconds(600)))
        #expect(throttle.authCommand(from: "198.51.100.9", at: at(0)) == .proceed)
        #expect(throttle.failedLogin(from: "198.51.100.9", at: at(1)) == .delay(.seconds(1)))
        #expect(throttle.failedLogin(from: "198.51.100.9", at: at(2)) == .delay(.seconds(2)))
        #expect(throttle.failedLogin(from: "198.51.100.9", at: at(3)) == .delay(.seconds(3)))
        #expect(throttle.failedLogin(from: "198.51.100.9", at: at(4)) == .cutOff(delay: .seconds(4)))
        // Blocked until the first failure ages out of the window, also in new sessions.
        #expect(throttle.authCommand(from: "198.51.100.9", at: at(5)) == .blocked(retryAfter: .seconds(596)))
        #expect(throttle.authCommand(from: "198.51.100.9", at: at(600)) == .blocked(retryAfter: .seconds(1)))
        #expect(throttle.authCommand(from: "198.51.100.8", at: at(5)) == .proceed)
        #expect(throttle.failedLogins(from: "198.51.100.9", at: at(5)) == 4)
        #expect(throttle.authCommand(from: "198.51.100.9", at: at(601)) == .proceed)
        #expect(throttle.failedLogins(from: "198.51.100.9", at: at(601)) == 3)
        // One more failure within the window cuts it off again.
        #expect(throttle.failedLogin(from: "198.51.100.9", at: at(601)) == .cutOff(delay: .seconds(4)))
    }

    @Test func failuresOutsideTheWindowDoNotCount() {
        var throttle = AuthenticationThrottle(policy: .init(failureDelay: .milliseconds(500), failureLimit: 3, failureWindow: .seconds(60)))
        #expect(throttle.failedLogin(from: "a", at: at(0)) == .delay(.milliseconds(500)))
        #expect(throttle.failedLogin(from: "a", at: at(30)) == .delay(.seconds(1)))
        #expect(throttle.failedLogin(from: "a", at: at(61)) == .delay(.seconds(1)))
        #expect(throttle.failedLogin(from: "a", at: at(89)) == .cutOff(delay: .milliseconds(1500)))
    }

    @Test func delayIsCappedAtTenTimesTheSleepTime() {
        var throttle = AuthenticationThrottle(policy: .init(failureDelay: .seconds(1), failureLimit: 0))
        var last = AuthenticationThrottle.FailureDecision.delay(.zero)
        for index in 0..<30 { last = throttle.failedLogin(from: "a", at: at(Double(index))) }
        #expect(last == .delay(.seconds(10)))
        #expect(throttle.authCommand(from: "a", at: at(31)) == .proceed)
    }

    @Test func memoryIsBounded() {
        var throttle = AuthenticationThrottle(policy: .init(failureLimit: 5, maximumClients: 100))
        for index in 0..<1000 {
            _ = throttle.failedLogin(from: "10.0.\(index / 256).\(index % 256)", at: at(Double(index) / 1000))
        }
        #expect(throttle.trackedClients <= 100)
        // The newest are kept.
        #expect(throttle.failedLogins(from: "10.0.3.231", at: at(1)) == 1)
        #expect(throttle.failedLogins(from: "10.0.0.0", at: at(1)) == 0)
    }

    @Test func sharedThrottleUsesItsClock() {
        let clock = ManualClock()
        let shared = SharedAuthenticationThrottle(policy: .init(authCommandRateLimit: 1, rateTimeUnit: .seconds(60)), now: clock.reader)
        #expect(shared.authCommand(from: "192.0.2.1") == .proceed)
        #expect(shared.authCommand(from: "192.0.2.1") == .rateLimited(count: 2))
        clock.advance(by: .seconds(61))
        #expect(shared.authCommand(from: "192.0.2.1") == .proceed)
        #expect(shared.failedLogin(from: "192.0.2.1") == .delay(.seconds(1)))
    }
}
