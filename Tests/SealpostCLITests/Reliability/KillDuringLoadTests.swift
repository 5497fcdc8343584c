import Foundation
import SealpostTestSupport
import Testing

/// Durability end to end: concurrent senders, SIGKILL in the middle of the load, restart. Every
/// message that got its 250 must be delivered after the restart; a message may be delivered twice
/// (killed after the Maildir write and before its result reached the journal), never lost.
///
/// `SEALPOST_KILL_ROUNDS` sets the rounds (default 2); the figures are printed for the closing notes.
@Suite("SIGKILL during a load of incoming mail", .serialized) struct KillDuringLoadTests {
    @Test("every acknowledged message is delivered after a SIGKILL and a restart")
    func acknowledgedMailSurvivesSIGKILL() throws {
        let rounds = CrashHarness.rounds(default: 2)
        let instance = try MailInstance()
        var acknowledged: [String] = []
        for round in 0..<rounds {
            try instance.startAgain()
            // Ten senders, each message a connection of its own, until the server is gone.
            let load = try CrashHarness.Load(port: instance.smtpPort, round: round, recipients: ["demo@example.test"], seconds: 4)
            // Let the load build up, then pull the plug in the middle of it.
            CrashHarness.randomPause(1.0..<2.0)
            instance.crash()
            acknowledged += load.finish().acknowledged
        }
        try instance.startAgain()
        let drained = waitUntil(timeout: 60) { instance.queueIsEmpty }
        #expect(drained, "the queue drains after the last restart")
        let figures = CrashHarness.figures(
            phase: "accepting", rounds: rounds, acknowledged: acknowledged, arrived: instance.mailbox("demo"), instance: instance)
        CrashHarness.expectSound(figures, instance)
    }
}
