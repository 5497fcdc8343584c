import NIOPosix

/// Threads for the blocking file work of the Maildir agents (writes, fsyncs, renames), so that
/// it never occupies Swift's cooperative pool — one thread per CPU, shared with the SMTP
/// sessions. Sixteen threads let the syncs of parallel deliveries overlap, as Postfix's parallel
/// virtual and local processes do.
enum MailboxIO {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    /// Runs `body` on one of the pool's threads and returns its result.
    static func run<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
        do {
            return try await pool.runIfActive(body)
        } catch {
            // The pool is never shut down; should it refuse anyway, do the work here.
            return body()
        }
    }
}
