import NIOCore

/// Runs a task's jobs on one event loop: the loop of the connection the task serves.
///
/// An SMTP session is async code reading from and writing to its channel. On Swift's global
/// executor every read woke a pool thread and every reply hopped back to the event loop, about a
/// dozen context switches for a connection that only greets, shakes hands and hangs up. Preferring
/// the channel's own loop keeps session and I/O on one thread, as Postfix's smtpd is one process:
/// a write from the session goes straight down the pipeline, and a read resumes the session in
/// the same loop turn. The price is that a session must not block for long, which it does not:
/// queue files are written to the page cache and synced by the queue's own threads, and name
/// lookups run elsewhere.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
