import Testing
import VigieCore

/// `SituationLog` on hand-made reports: what pairs with what, how a situation ends, and the order of the lines.
@Suite("Situation log")
struct SituationLogTests {
    static let box = NormalizedRect(x: 0.1, y: 0.2, width: 0.1, height: 0.1)

    static func alert(
        _ kind: RuleAlert.Kind, rule: String = "yard", start: Int, frame: Int, object: Int? = nil
    ) -> RuleAlert {
        RuleAlert(
            kind: kind, rule: rule, zone: kind == .lineCrossing ? nil : rule, line: kind == .lineCrossing ? rule : nil,
            direction: kind == .lineCrossing ? .leftToRight : nil, boxes: [box], confidence: 0.8, startFrame: start,
            startTime: Double(start) / 10, frame: frame, time: Double(frame) / 10, object: object)
    }

    static func tamper(
        _ state: TamperState?, previous: TamperState?, frame: Int, since: Int? = nil,
        reason: TamperChange.Reason? = nil
    ) -> TamperChange {
        TamperChange(
            state: state, previous: previous, confidence: 0.9,
            measurement: TamperMeasurement(contrast: 0.1, sharpness: 1, correlation: 0.9, luma: 5), frame: frame,
            time: Double(frame) / 10, reason: reason, startFrame: since, startTime: since.map { Double($0) / 10 })
    }

    @Test("a zone's alert ends at its RuleEnd; a crossing at once; an end with nothing open is ignored")
    func zonesAndLines() {
        var log = SituationLog()
        log.add(Self.alert(.intrusion, start: 10, frame: 30))
        log.add(Self.alert(.densityHigh, start: 12, frame: 32))
        log.add(Self.alert(.lineCrossing, rule: "gate", start: 40, frame: 40))
        log.add(RuleEnd(kind: .intrusion, rule: "other", frame: 50, time: 5, reason: .quiet))
        log.add(RuleEnd(kind: .intrusion, rule: "yard", frame: 60, time: 6, reason: .quiet))
        log.add(RuleEnd(kind: .densityHigh, rule: "yard", frame: 45, time: 4.5, reason: .stopped))
        let lines = log.finish(frame: 99, time: 9.9)
        #expect(lines.map(\.kind) == ["line_crossing", "density_high", "intrusion"])
        #expect(lines.map(\.startFrame) == [40, 12, 10] && lines.map(\.endFrame) == [40, 45, 60])
        #expect(lines.map(\.ending) == [.instant, .rule(.stopped), .rule(.quiet)])
        #expect(lines[2].jsonLine.contains(#""start_frame":10,"end_frame":60,"start_time":1,"end_time":6,"#))
        #expect(lines[2].jsonLine.contains(#""alert_frame":30,"#) && lines[2].jsonLine.hasSuffix(#""ongoing":false}"#))
        #expect(
            lines[0].jsonLine.contains(#""line":"gate","direction":"left_to_right","start_frame":40,"end_frame":40"#))
    }

    @Test("abandoned objects pair with their clearing by object, whatever the order")
    func abandoned() {
        var log = SituationLog()
        log.add(Self.alert(.abandonedObject, rule: "abandoned", start: 10, frame: 110, object: 0))
        log.add(Self.alert(.abandonedObject, rule: "abandoned", start: 20, frame: 120, object: 1))
        log.add(Self.alert(.abandonedCleared, rule: "abandoned", start: 20, frame: 200, object: 1))
        log.add(Self.alert(.abandonedObject, rule: "abandoned", start: 210, frame: 310, object: 1))
        log.add(Self.alert(.abandonedCleared, rule: "abandoned", start: 10, frame: 300, object: 0))
        let lines = log.finish(frame: 400, time: 40)
        #expect(lines.map(\.kind) == Array(repeating: "abandoned_object", count: 3))
        #expect(lines.map(\.startFrame) == [20, 10, 210] && lines.map(\.endFrame) == [200, 300, 400])
        #expect(lines.map(\.ending) == [.gone, .gone, .ongoing])
        #expect(lines[0].jsonLine.contains(#""cleared":"gone""#) && lines[2].jsonLine.contains(#""ongoing":true"#))
    }

    @Test("a tampering runs from where it began to its clearing, or to where the kind it turns into began")
    func tampering() {
        var log = SituationLog()
        log.add(Self.tamper(.covered, previous: nil, frame: 60, since: 30))
        log.add(Self.tamper(.defocus, previous: .covered, frame: 80, since: 50))
        log.add(Self.tamper(nil, previous: .defocus, frame: 80))
        log.add(Self.tamper(.moved, previous: nil, frame: 100))
        log.add(Self.tamper(nil, previous: .moved, frame: 150, reason: .accepted))
        log.add(Self.tamper(.covered, previous: nil, frame: 170))
        let lines = log.finish(frame: 199, time: 19.9)
        #expect(lines.map(\.kind) == ["tamper_covered", "tamper_defocus", "tamper_moved", "tamper_covered"])
        #expect(lines.map(\.startFrame) == [30, 50, 100, 170] && lines.map(\.endFrame) == [50, 80, 150, 199])
        #expect(lines.map(\.alertFrame) == [60, 80, 100, 170])
        #expect(lines.map(\.ending) == [.became(.defocus), .cleared(.view), .cleared(.accepted), .ongoing])
        #expect(lines[0].jsonLine.contains(#""became":"defocus""#) && lines[1].jsonLine.contains(#""cleared":"view""#))
        #expect(lines[3].jsonLine.contains(#""boxes":[]"#) && lines[3].jsonLine.contains(#""ongoing":true"#))
        #expect(!lines.contains { $0.kind == "tamper_cleared" })
    }
}
