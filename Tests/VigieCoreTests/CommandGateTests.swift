import Testing
import VigieCore

@Suite("Command gate")
struct CommandGateTests {
    @Test func bucketStartsFullAndRefillsAtItsRate() {
        var bucket = TokenBucket(capacity: 5, perSecond: 0.5)
        let taken = (0..<7).map { _ in bucket.take(now: 100) }
        #expect(taken == [true, true, true, true, true, false, false])
        let wait = bucket.wait(now: 100)
        #expect(wait == 2)
        let early = bucket.take(now: 101.9)
        let due = bucket.take(now: 102)
        #expect(!early && due)
        let next = bucket.wait(now: 103)
        #expect(abs(next - 1) < 1e-9)
        // Never above capacity, however long the pause.
        _ = bucket.wait(now: 10_000)
        #expect(bucket.tokens == 5)
    }

    @Test func clockGoingBackwardsAddsNothing() {
        var bucket = TokenBucket(capacity: 1, perSecond: 1)
        let taken = [50, 10, 50.5, 51].map { bucket.take(now: $0) }
        #expect(taken == [true, false, false, true])
    }

    /// 5 at once, then 30 a minute, per command name: a flood of 100 in one second runs 5 and the rest are
    /// told when to try again; another command name has its own bucket.
    @Test func floodIsRateLimitedPerCommandName() {
        var gate = CommandGate(burst: 5, perMinute: 30, queueLimit: 1000)
        let flood = (0..<100).map { gate.admit("selftest", now: 10 + Double($0) / 100) }
        #expect(flood.filter { $0 == .run }.count == 5)
        #expect(flood.prefix(5).allSatisfy { $0 == .run })
        guard case .rateLimited(let retryAfter) = flood[5] else {
            Issue.record("\(flood[5])")
            return
        }
        #expect(abs(retryAfter - 1.95) < 1e-9)  // one token every 2 s, 0.05 s of it already refilled
        let other = gate.admit("arm", now: 11)
        let later = [gate.admit("selftest", now: 12), gate.admit("selftest", now: 12)]
        #expect(other == .run)
        #expect(later.map { $0 == .run } == [true, false], "a token two seconds later, then none")
    }

    /// At most `queueLimit` in progress; a `busy` refusal keeps the command's token.
    @Test func commandsBeyondTheQueueAreBusy() {
        var gate = CommandGate(burst: 10, perMinute: 60, queueLimit: 3)
        let first = (0..<5).map { _ in gate.admit("snapshot", now: 0) }
        #expect(first == [.run, .run, .run, .busy(limit: 3), .busy(limit: 3)])
        let arm = gate.admit("arm", now: 0)
        #expect(arm == .busy(limit: 3))
        gate.finished()
        #expect(gate.inProgress == 2)
        let again = gate.admit("snapshot", now: 0)
        #expect(again == .run)
        for _ in 0..<3 { gate.finished() }
        // 10 tokens, 4 used by the commands that ran: 6 left, the busy refusals took none.
        var runs = 0
        while gate.admit("snapshot", now: 0) == .run {
            runs += 1
            gate.finished()
        }
        #expect(runs == 6)
        #expect(gate.inProgress == 0)
    }

    /// The call point's commands have places of their own: a queue full of snapshots does not keep a caller
    /// waiting, and a flood of call commands does not take the ordinary places either.
    @Test func callCommandsHaveTheirOwnPlaces() {
        var gate = CommandGate(burst: 100, perMinute: 600, queueLimit: 3, reserve: 2)
        let snapshots = (0..<4).map { _ in gate.admit("snapshot", now: 0) }
        #expect(snapshots == [.run, .run, .run, .busy(limit: 3)])
        let calls = (0..<3).map { _ in gate.admit("call_end", now: 0, reserved: true) }
        #expect(calls == [.run, .run, .busy(limit: 2)])
        #expect(gate.inProgress == 3 && gate.reservedInProgress == 2)
        gate.finished(reserved: true)
        let again = [gate.admit("snapshot", now: 0), gate.admit("call_ack", now: 0, reserved: true)]
        #expect(again == [.busy(limit: 3), .run], "a reserved place freed serves a call, not a snapshot")
        gate.finished()
        #expect(gate.admit("snapshot", now: 0) == .run)
        #expect(Command.callEnd(call: nil).isReserved && Command.callAcknowledge(call: nil, message: nil).isReserved)
        #expect(!Command.snapshot.isReserved && !Command.reload.isReserved)
    }

    @Test func defaultsComeFromTheSettings() {
        let gate = CommandGate(settings: UplinkSettings())
        #expect(gate.burst == 5 && gate.perMinute == 30 && gate.queueLimit == 32)
    }
}
