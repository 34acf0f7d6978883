import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking work (SQLite commits, each with its fsync) on threads of its own, so that it never holds the
/// threads of Swift's concurrency pool, which deliver the units' acknowledgements and the centre's messages.
enum Workers {
    /// Calls `work(index)` once for every index in `0..<count`, spread over `threads` threads; returns when all
    /// calls have returned.
    static func run(_ count: Int, threads: Int, _ work: @escaping @Sendable (Int) -> Void) async {
        guard count > 0 else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let job = Job(count: count, threads: min(threads, count), work: work, done: done)
            for _ in 0..<job.threads { OSThread.detach("bench-worker") { job.drain() } }
        }
    }

    private final class Job: Sendable {
        let count: Int
        let threads: Int
        let work: @Sendable (Int) -> Void
        let done: CheckedContinuation<Void, Never>
        let next = Atomic<Int>(0)
        let running: Atomic<Int>

        init(count: Int, threads: Int, work: @escaping @Sendable (Int) -> Void, done: CheckedContinuation<Void, Never>)
        {
            self.count = count
            self.threads = threads
            self.work = work
            self.done = done
            running = Atomic(threads)
        }

        func drain() {
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < count else { break }
                work(index)
            }
            if running.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
        }
    }
}
