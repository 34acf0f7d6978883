import Synchronization
import Testing
import VigieCore

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

    @Test func conditionSetByAnotherThread() async {
        let flag = Atomic<Bool>(false)
        let setter = Task.detached {
            try? await Task.sleep(for: .milliseconds(30))
            flag.store(true, ordering: .relaxed)
        }
        #expect(Poll.blockingUntil(timeout: .seconds(10), every: .milliseconds(5)) { flag.load(ordering: .relaxed) })
        await setter.value
    }

    actor Counter {
        var value = 0
        func increment() { value += 1 }

        /// The condition reads the actor's state directly: `until` runs it on this actor.
        func waitFor(_ target: Int, timeout: Duration) async -> Bool {
            await Poll.until(timeout: timeout, every: .milliseconds(5)) { value >= target }
        }
    }

    @Test func asyncConditionOnTheCallersActor() async {
        let counter = Counter()
        let producer = Task {
            for _ in 0..<5 {
                try? await Task.sleep(for: .milliseconds(5))
                await counter.increment()
            }
        }
        #expect(await counter.waitFor(5, timeout: .seconds(10)))
        #expect(await !counter.waitFor(6, timeout: .milliseconds(50)))
        await producer.value
    }

    @Test func cancelledTaskStopsWaiting() async {
        let clock = ContinuousClock()
        let start = clock.now
        let waiter = Task { await Poll.until(timeout: .seconds(30)) { false } }
        waiter.cancel()
        #expect(await waiter.value == false)
        #expect(clock.now - start < .seconds(5))
    }
}
