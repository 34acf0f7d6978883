import Synchronization
import Testing
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Poll: the one wait-and-retry loop")
struct PollTests {
    @Test func conditionThatHoldsReturnsAtOnce() {
        let clock = ContinuousClock()
        let start = clock.now
        var checks = 0
        let held = Poll.blockingUntil(timeout: .seconds(5)) {
            checks += 1
            return true
        }
        #expect(held && checks == 1)
        #expect(clock.now - start < .seconds(1), "no pause before the first check")
    }

    @Test func conditionThatNeverHoldsTimesOutAfterTheTimeout() {
        let clock = ContinuousClock()
        let start = clock.now
        var checks = 0
        let held = Poll.blockingUntil(timeout: .milliseconds(200), every: .milliseconds(20)) {
            checks += 1
            return false
        }
        let elapsed = clock.now - start
        #expect(!held)
        #expect(elapsed >= .milliseconds(200), "it waited the whole timeout")
        #expect(elapsed < .seconds(2))
        // One check at once, one per interval, the last one at the deadline: never a busy loop.
        #expect(checks >= 2 && checks <= 11, "\(checks) checks")
    }

    @Test(arguments: [1, 3, 7])
    func conditionIsCheckedUntilItHolds(checksNeeded: Int) {
        var checks = 0
        let held = Poll.blockingUntil(timeout: .seconds(10), every: .milliseconds(1)) {
            checks += 1
            return checks == checksNeeded
        }
        #expect(held && checks == checksNeeded)
    }

    @Test func zeroTimeoutChecksOnce() {
        var checks = 0
        #expect(
            !Poll.blockingUntil(timeout: .zero) {
                checks += 1; return false
            })
        #expect(checks == 1)
    }

    /// The flag is set by a thread of its own, not a task: the test must not depend on the concurrency pool,
    /// which other suites may keep busy.
    @Test func conditionSetByAnotherThread() {
        final class Flag: Sendable { let value = Atomic<Bool>(false) }
        let flag = Flag()
        var thread = pthread_t()
        let context = Unmanaged.passRetained(flag).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { raw in
                let flag = Unmanaged<Flag>.fromOpaque(raw!).takeRetainedValue()
                var pause = timespec(tv_sec: 0, tv_nsec: 30_000_000)
                nanosleep(&pause, nil)
                flag.value.store(true, ordering: .relaxed)
                return nil
            }, context)
        #expect(status == 0)
        #expect(
            Poll.blockingUntil(timeout: .seconds(30), every: .milliseconds(5)) { flag.value.load(ordering: .relaxed) })
        pthread_join(thread, nil)
    }

    actor Counter {
        var checks = 0

        /// The condition changes the actor's state directly: `until` runs it on this actor, between pauses.
        func checkUntil(_ target: Int, timeout: Duration) async -> Bool {
            await Poll.until(timeout: timeout, every: .milliseconds(1)) {
                checks += 1
                return checks >= target
            }
        }
    }

    @Test func asyncConditionRunsOnTheCallersActor() async {
        let counter = Counter()
        #expect(await counter.checkUntil(4, timeout: .seconds(60)))
        #expect(await counter.checks == 4, "checked until it held, not once more")
        #expect(await !counter.checkUntil(1_000_000, timeout: .milliseconds(50)))
        #expect(await counter.checks > 4, "checked again during the timeout")
    }

    @Test func cancelledTaskStopsWaiting() async {
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            var checks = 0
            let held = await Poll.until(timeout: .seconds(60)) {
                checks += 1
                return false
            }
            return (held, checks)
        }
        let (held, checks) = await waiter.value
        #expect(!held)
        #expect(checks == 1, "one check, then it saw the cancellation")
    }
}
