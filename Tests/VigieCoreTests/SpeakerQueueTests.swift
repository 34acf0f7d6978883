import Testing
import VigieCore

@Suite("Speaker queue state machine")
struct SpeakerQueueTests {
    static let noon = 12 * 60

    static func message(
        _ id: String, _ priority: SpeakerPriority = .command, source: String? = nil, repeat count: Int = 1,
        text: String = "Bonjour"
    ) -> SpeakerMessage {
        SpeakerMessage(
            id: id, content: .text(text, voice: "fr"), priority: priority, source: source ?? id, repeatCount: count)
    }

    static func settings(chime: Bool = false, _ change: (inout SpeakerQueue.Settings) -> Void = { _ in })
        -> SpeakerQueue.Settings
    {
        var settings = SpeakerQueue.Settings()
        settings.chime = chime
        change(&settings)
        return settings
    }

    /// The actions as short strings: `play m1 chime`, `play m1 #2`, `interrupt`, `announce m1 ...`, `dropped m3`.
    static func describe(_ actions: [SpeakerQueue.Action]) -> [String] {
        actions.map {
            switch $0 {
            case .play(let part):
                switch part.kind {
                case .chime: "play \(part.message.id) chime"
                case .message(let repetition): "play \(part.message.id) #\(repetition)"
                }
            case .interrupt: "interrupt"
            case .announce(let announcement):
                "announce \(announcement.message.id) x\(announcement.timesPlayed)"
                    + (announcement.interrupted ? " interrupted" : "") + (announcement.truncated ? " truncated" : "")
            case .dropped(let message): "dropped \(message.id)"
            }
        }
    }

    static func accepted(
        _ queue: inout SpeakerQueue, _ message: SpeakerMessage, at now: Double, minute: Int = noon
    ) -> [String] {
        switch queue.submit(message, now: now, minuteOfDay: minute) {
        case .success(let actions): describe(actions)
        case .failure(let refusal): ["refused: \(refusal)"]
        }
    }

    static func token(_ queue: SpeakerQueue) -> Int { queue.current!.part.token }

    @Test func chimeThenMessageThenAnnouncement() {
        var queue = SpeakerQueue(settings: Self.settings(chime: true))
        #expect(Self.accepted(&queue, Self.message("m1"), at: 100) == ["play m1 chime"])
        #expect(Self.describe(queue.partEnded(token: Self.token(queue), now: 100.8)) == ["play m1 #1"])
        let end = queue.partEnded(token: Self.token(queue), now: 103)
        #expect(Self.describe(end) == ["announce m1 x1"])
        guard case .announce(let announcement) = end.first else { return }
        #expect(announcement.startTime == 100)
        #expect(announcement.duration == 3)
        #expect(!announcement.interrupted)
        #expect(queue.isIdle)
    }

    @Test func repeatPlaysAgainAfterAGap() {
        var queue = SpeakerQueue(settings: Self.settings { $0.repeatGap = 1.5 })
        #expect(Self.accepted(&queue, Self.message("m1", repeat: 3), at: 0) == ["play m1 #1"])
        let second = queue.partEnded(token: Self.token(queue), now: 2)
        #expect(Self.describe(second) == ["play m1 #2"])
        guard case .play(let part) = second.first else { return }
        #expect(part.leadingSilence == 1.5)
        #expect(part.limit == 60 - 2 - 1.5)
        #expect(Self.describe(queue.partEnded(token: Self.token(queue), now: 5.5)) == ["play m1 #3"])
        #expect(Self.describe(queue.partEnded(token: Self.token(queue), now: 9)) == ["announce m1 x3"])
    }

    @Test func higherPriorityWaitsNotForLower() {
        var queue = SpeakerQueue(settings: Self.settings())
        #expect(Self.accepted(&queue, Self.message("rule1", .rule), at: 0) == ["play rule1 #1"])
        // The same priority waits; a higher one interrupts.
        #expect(Self.accepted(&queue, Self.message("rule2", .rule), at: 1).isEmpty)
        #expect(
            Self.accepted(&queue, Self.message("cmd1", .command), at: 2) == [
                "interrupt", "announce rule1 x0 interrupted", "play cmd1 #1",
            ])
        // A call acknowledgement interrupts the command.
        #expect(
            Self.accepted(&queue, Self.message("ack", .callAcknowledgement), at: 3) == [
                "interrupt", "announce cmd1 x0 interrupted", "play ack #1",
            ])
        // A command while the acknowledgement plays waits, ahead of the rule.
        #expect(Self.accepted(&queue, Self.message("cmd2", .command), at: 4).isEmpty)
        #expect(queue.waiting.map(\.id) == ["cmd2", "rule2"])
        #expect(
            Self.describe(queue.partEnded(token: Self.token(queue), now: 5)) == ["announce ack x1", "play cmd2 #1"])
        #expect(
            Self.describe(queue.partEnded(token: Self.token(queue), now: 7)) == ["announce cmd2 x1", "play rule2 #1"])
        #expect(Self.describe(queue.partEnded(token: Self.token(queue), now: 9)) == ["announce rule2 x1"])
        #expect(queue.isIdle)
    }

    @Test func staleTokensAreIgnored() {
        var queue = SpeakerQueue(settings: Self.settings())
        _ = Self.accepted(&queue, Self.message("rule1", .rule), at: 0)
        let old = Self.token(queue)
        _ = Self.accepted(&queue, Self.message("cmd1"), at: 1)
        // The interrupted part's player reports its end late: nothing happens.
        #expect(queue.partEnded(token: old, now: 1.1).isEmpty)
        #expect(queue.partFailed(token: old, now: 1.1).isEmpty)
        #expect(queue.current?.part.message.id == "cmd1")
    }

    @Test func ruleCooldownIsPerSource() {
        var queue = SpeakerQueue(settings: Self.settings { $0.ruleCooldown = 30 })
        #expect(Self.accepted(&queue, Self.message("a1", .rule, source: "yard"), at: 0) == ["play a1 #1"])
        _ = queue.partEnded(token: Self.token(queue), now: 3)
        #expect(
            Self.accepted(&queue, Self.message("a2", .rule, source: "yard"), at: 10) == [
                "refused: 'yard' was heard less than a cool-down ago; 20 s to wait"
            ])
        // Another rule is not held back, nor are operators.
        #expect(Self.accepted(&queue, Self.message("b1", .rule, source: "gate"), at: 11) == ["play b1 #1"])
        _ = queue.partEnded(token: Self.token(queue), now: 12)
        #expect(Self.accepted(&queue, Self.message("c1", .command, source: "yard"), at: 13) == ["play c1 #1"])
        _ = queue.partEnded(token: Self.token(queue), now: 14)
        #expect(Self.accepted(&queue, Self.message("a3", .rule, source: "yard"), at: 30) == ["play a3 #1"])
    }

    /// What the speaker asks before synthesizing a text: the answer `submit` would give for the hour and the cool-down.
    @Test func refusalIsKnownBeforeTheMessageIsMade() {
        var queue = SpeakerQueue(
            settings: Self.settings {
                $0.ruleCooldown = 30
                $0.quietHours = QuietHours("22:00-07:00")
            })
        let noon = 12 * 60
        #expect(queue.refusal(priority: .rule, source: "yard", now: 0, minuteOfDay: noon) == nil)
        #expect(Self.accepted(&queue, Self.message("a1", .rule, source: "yard"), at: 0) == ["play a1 #1"])
        #expect(
            queue.refusal(priority: .rule, source: "yard", now: 10, minuteOfDay: noon)
                == .coolingDown(source: "yard", remaining: 20))
        #expect(queue.refusal(priority: .rule, source: "gate", now: 10, minuteOfDay: noon) == nil)
        #expect(queue.refusal(priority: .command, source: "yard", now: 10, minuteOfDay: noon) == nil)
        #expect(queue.refusal(priority: .rule, source: "gate", now: 10, minuteOfDay: 23 * 60) != nil)
        #expect(queue.refusal(priority: .callAcknowledgement, source: "c", now: 10, minuteOfDay: 23 * 60) == nil)
        #expect(queue.refusal(priority: .rule, source: "yard", now: 30, minuteOfDay: noon) == nil)
    }

    @Test func quietHoursLetOnlyCallAcknowledgementsThrough() {
        let hours = QuietHours("22:00-07:00")!
        var queue = SpeakerQueue(settings: Self.settings { $0.quietHours = hours })
        let night = 23 * 60 + 30
        let early = 6 * 60 + 59
        #expect(
            Self.accepted(&queue, Self.message("c1"), at: 0, minute: night) == [
                "refused: quiet hours (22:00-07:00): only call acknowledgements are played"
            ])
        #expect(
            Self.accepted(&queue, Self.message("r1", .rule), at: 0, minute: early).first?.hasPrefix("refused") == true)
        #expect(Self.accepted(&queue, Self.message("k1", .callAcknowledgement), at: 0, minute: night) == ["play k1 #1"])
        _ = queue.partEnded(token: Self.token(queue), now: 2)
        #expect(Self.accepted(&queue, Self.message("c2"), at: 3, minute: 7 * 60) == ["play c2 #1"])
        // A refused rule did not start its cool-down.
        _ = queue.partEnded(token: Self.token(queue), now: 4)
        #expect(
            Self.accepted(&queue, Self.message("r2", .rule, source: "r1"), at: 5, minute: Self.noon) == ["play r2 #1"])
    }

    static let spans: [(String, [(Int, Bool)])] = [
        ("22:00-07:00", [(1320, true), (0, true), (420, false), (720, false), (1319, false)]),
        ("13:00-14:00", [(780, true), (839, true), (840, false), (0, false)]),
        ("08:00-08:00", [(480, false), (0, false)]),
    ]

    @Test(arguments: spans)
    func quietHoursSpans(text: String, cases: [(Int, Bool)]) {
        let hours = QuietHours(text)!
        #expect(hours.description == text)
        for (minute, quiet) in cases { #expect(hours.contains(minuteOfDay: minute) == quiet, "\(minute)") }
    }

    @Test(arguments: ["", "7:00-08:00", "24:00-01:00", "07:60-08:00", "07:00", "07:00-08:00-09:00", "aa:bb-cc:dd"])
    func badQuietHoursAreRefused(text: String) {
        #expect(QuietHours(text) == nil)
    }

    @Test func textLengthAndRepeatAreBounded() {
        var queue = SpeakerQueue(settings: Self.settings { $0.maximumTextLength = 20 })
        #expect(
            Self.accepted(&queue, Self.message("m1", text: String(repeating: "é", count: 21)), at: 0) == [
                "refused: the text is 21 characters; the limit is 20"
            ])
        #expect(Self.accepted(&queue, Self.message("m2", text: "   "), at: 0) == ["refused: the text is empty"])
        #expect(
            Self.accepted(&queue, Self.message("m3", repeat: 6), at: 0) == [
                "refused: repeat 6 is out of range (1 to 5)"
            ])
        #expect(Self.accepted(&queue, Self.message("m4", repeat: 0), at: 0).first?.hasPrefix("refused") == true)
        #expect(
            Self.accepted(&queue, Self.message("m5", text: String(repeating: "é", count: 20)), at: 0) == ["play m5 #1"])
        #expect(Self.accepted(&queue, Self.message("m5"), at: 0) == ["refused: message 'm5' is already queued"])
        #expect(queue.waiting.isEmpty)
    }

    @Test func maximumDurationStopsRepetitions() {
        var queue = SpeakerQueue(settings: Self.settings(chime: true) { $0.maximumDuration = 10 })
        _ = Self.accepted(&queue, Self.message("m1", repeat: 5), at: 0)
        let first = queue.partEnded(token: Self.token(queue), now: 1)
        guard case .play(let part) = first.first else {
            Issue.record("no part")
            return
        }
        // The player is told how much is left: it cuts the sound there.
        #expect(part.limit == 9)
        #expect(Self.describe(queue.partEnded(token: Self.token(queue), now: 5)) == ["play m1 #2"])
        // 9.5 s used: no room for another repetition after the gap.
        #expect(Self.describe(queue.partEnded(token: Self.token(queue), now: 9.5)) == ["announce m1 x2 truncated"])
    }

    @Test func tickCutsAPlayerThatOverruns() {
        var queue = SpeakerQueue(settings: Self.settings { $0.maximumDuration = 10 })
        _ = Self.accepted(&queue, Self.message("m1"), at: 0)
        _ = Self.accepted(&queue, Self.message("m2"), at: 0)
        #expect(queue.tick(now: 10.5).isEmpty)
        #expect(Self.describe(queue.tick(now: 11)) == ["interrupt", "announce m1 x0 truncated", "play m2 #1"])
    }

    @Test func failureEndsTheMessageAndDropsTheWaiting() {
        var queue = SpeakerQueue(settings: Self.settings())
        _ = Self.accepted(&queue, Self.message("m1"), at: 0)
        _ = Self.accepted(&queue, Self.message("m2"), at: 0)
        _ = Self.accepted(&queue, Self.message("m3"), at: 0)
        #expect(
            Self.describe(queue.partFailed(token: Self.token(queue), now: 1)) == [
                "announce m1 x0 interrupted", "dropped m2", "dropped m3",
            ])
        #expect(queue.isIdle)
    }

    @Test func aSkippedPartEndsOnlyItsMessage() {
        var queue = SpeakerQueue(settings: Self.settings())
        _ = Self.accepted(&queue, Self.message("m1"), at: 0)
        _ = Self.accepted(&queue, Self.message("m2"), at: 0)
        #expect(
            Self.describe(queue.partSkipped(token: Self.token(queue), now: 1)) == [
                "announce m1 x0 interrupted", "play m2 #1",
            ])
        #expect(queue.partSkipped(token: 999, now: 1).isEmpty)
    }

    @Test func queueIsBounded() {
        var queue = SpeakerQueue(settings: Self.settings { $0.maximumWaiting = 2 })
        _ = Self.accepted(&queue, Self.message("r0", .rule, source: "a"), at: 0)
        _ = Self.accepted(&queue, Self.message("r1", .rule, source: "b"), at: 0)
        _ = Self.accepted(&queue, Self.message("r2", .rule, source: "c"), at: 0)
        #expect(
            Self.accepted(&queue, Self.message("r3", .rule, source: "d"), at: 0) == [
                "refused: 2 messages are already waiting"
            ])
        // A higher priority still gets through: it interrupts the one playing and takes its place.
        #expect(
            Self.accepted(&queue, Self.message("c1"), at: 1) == [
                "interrupt", "announce r0 x0 interrupted", "play c1 #1",
            ])
        #expect(queue.waiting.map(\.id) == ["r1", "r2"])
    }

    @Test func priorityNamesRoundTrip() {
        for priority in SpeakerPriority.allCases { #expect(SpeakerPriority(name: priority.name) == priority) }
        #expect(SpeakerPriority(name: "urgent") == nil)
    }
}
