#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// A few threads that run blocking sync calls side by side.
///
/// File systems with a journal merge fsyncs that are in flight together into one journal
/// commit, so a batch's per-file fdatasyncs are issued concurrently rather than one after
/// another. Dedicated threads, because a thread blocked in fdatasync is invisible to Dispatch's
/// and Swift concurrency's pools, which would not grow to compensate.
final class SyncWorkers: Sendable {
    private struct State {
        var work: [@Sendable () -> Void] = []
        var started = false
        var stopping = false
    }

    private let state = Locked(State())
    private let available = DispatchSemaphore(value: 0)
    private let count: Int

    /// The threads start when the first batch of more than one job arrives.
    init(count: Int) {
        self.count = count
    }

    private func start() {
        for _ in 0..<count {
            let context = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { context in
                let workers = Unmanaged<SyncWorkers>.fromOpaque(context!).takeRetainedValue()
                workers.serve()
                return nil
            }, context)
            if created == 0 {
                pthread_detach(thread)
            } else {
                Unmanaged<SyncWorkers>.fromOpaque(context).release()
            }
        }
    }

    /// Ends the threads once their current work is done.
    func stop() {
        let started = state.withLock { state in
            state.stopping = true
            return state.started
        }
        if started { for _ in 0..<count { available.signal() } }
    }

    /// Runs a job on a worker without waiting for it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        let start = state.withLock { state in
            state.work.append(job)
            defer { state.started = true }
            return !state.started
        }
        if start { self.start() }
        available.signal()
    }

    /// Runs every job, some on the workers and one on the calling thread, and returns when all are done.
    func runAll(_ jobs: [@Sendable () -> Void]) {
        guard jobs.count > 1 else {
            jobs.first?()
            return
        }
        let done = DispatchGroup()
        let wrapped = jobs.dropFirst().map { job -> @Sendable () -> Void in
            done.enter()
            return {
                job()
                done.leave()
            }
        }
        let start = state.withLock { state in
            state.work += wrapped
            defer { state.started = true }
            return !state.started
        }
        if start { self.start() }
        for _ in wrapped { available.signal() }
        jobs[0]()
        done.wait()
    }

    private func serve() {
        while true {
            available.wait()
            var job: (@Sendable () -> Void)?
            var stopping = false
            state.withLock { state in
                stopping = state.stopping
                if !stopping, !state.work.isEmpty { job = state.work.removeFirst() }
            }
            if stopping { return }
            job?()
        }
    }
}
