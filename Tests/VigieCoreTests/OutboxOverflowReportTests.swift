import Testing
import VigieCore

@Suite("Outbox overflow report")
struct OutboxOverflowReportTests {
    static func drops(_ counts: [String: Int]) -> OutboxDrops {
        var drops = OutboxDrops()
        for (label, count) in counts { drops.add(label, count: count) }
        return drops
    }

    static func details(_ event: UplinkEvent?) -> [String] { event?.details.map { "\($0.key)=\($0.value)" } ?? [] }

    @Test func firstDropsAreReportedAtOnceThenAtMostOncePerInterval() {
        var report = OutboxOverflowReport(interval: 60_000)
        #expect(report.due == nil)
        #expect(report.report(at: 1000) == nil, "nothing dropped, nothing to say")
        report.add(Self.drops(["motion_end": 2, "snapshot": 1]), byReport: false)
        let first = report.report(at: 1000)
        #expect(first?.kind == "outbox_overflow" && first?.priority == Priority.fault)
        #expect(Self.details(first) == ["dropped=3", "dropped_motion_end=2", "dropped_snapshot=1"])
        #expect(report.report(at: 1001) == nil)

        report.add(Self.drops(["motion": 1]), byReport: false)
        report.add(Self.drops(["motion": 4, "snapshot": 1]), byReport: false)
        #expect(report.due == 61_000)
        #expect(report.report(at: 60_999) == nil)
        #expect(Self.details(report.report(at: 61_000)) == ["dropped=6", "dropped_motion=5", "dropped_snapshot=1"])
        #expect(report.due == nil)
    }

    /// A report that pushes an item out does not call for another report; the drop rides along with the next.
    @Test func dropsCausedByAReportWaitForTheNext() {
        var report = OutboxOverflowReport(interval: 10_000)
        report.add(Self.drops(["motion_end": 1]), byReport: false)
        #expect(report.report(at: 0) != nil)
        report.add(Self.drops(["motion_end": 1]), byReport: true)
        #expect(report.due == nil)
        #expect(report.report(at: 1_000_000) == nil)
        report.add(Self.drops(["snapshot": 1]), byReport: false)
        #expect(
            Self.details(report.report(at: 1_000_000)) == ["dropped=2", "dropped_motion_end=1", "dropped_snapshot=1"])
    }

    @Test func clockSteppedBackDoesNotHoldReports() {
        var report = OutboxOverflowReport(interval: 60_000)
        report.add(Self.drops(["motion": 1]), byReport: false)
        #expect(report.report(at: 5_000_000) != nil)
        report.add(Self.drops(["motion": 1]), byReport: false)
        #expect(report.report(at: 1_000) != nil)
    }
}

@Suite("Quarantine report")
struct QuarantineReportTests {
    /// Told at once, then at most once per interval; a quarantined report calls for no other.
    @Test func quarantinesAreToldOnceAndThrottled() {
        var report = QuarantineReport(interval: 60_000)
        report.add(label: "snapshot", reason: "cannot be published: message too large")
        let first = report.report(at: 1_000)
        #expect(first?.kind == "outbox_quarantine" && first?.priority == Priority.fault)
        #expect(
            OutboxOverflowReportTests.details(first) == [
                "quarantined=1", "quarantined_snapshot=1", "reason=cannot be published: message too large",
            ])
        report.add(label: "outbox_quarantine", reason: "refused by the broker: Not authorized (0x87)")
        #expect(report.due == nil, "the report itself was refused: no report about the report")
        report.add(label: "motion", reason: "refused by the broker: Not authorized (0x87)")
        #expect(report.report(at: 2_000) == nil)
        #expect(
            OutboxOverflowReportTests.details(report.report(at: 61_000)) == [
                "quarantined=2", "quarantined_motion=1", "quarantined_outbox_quarantine=1",
                "reason=refused by the broker: Not authorized (0x87)",
            ])
    }
}
