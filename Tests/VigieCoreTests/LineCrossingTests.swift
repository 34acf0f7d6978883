import Testing
import VigieCore

/// Person-sized walkers (12 × 30 pixels on a 160 × 120 street at 10 frames per second, with sensor noise) crossing or
/// passing configured lines, through the real mask and motion detector. A crossing must be reported once, with its
/// direction, within 0.5 s of the frame the walker's true foot point (bottom centre) changed side; nothing else.
@Suite("Line crossing and wrong way")
struct LineCrossingTests {
    typealias H = ObjectRulesHarness

    /// A walker whose foot point starts at (`footX`, `footY`) pixels and moves by (`dx`, `dy`) pixels per frame.
    static func walker(
        footX: Double, footY: Double, dx: Double, dy: Double, frames: Range<Int>, luma: UInt8 = 225
    ) -> SyntheticScene.MovingObject {
        .init(x: footX - 6, y: footY - 30, width: 12, height: 30, dx: dx, dy: dy, luma: luma, frames: frames)
    }

    /// The first frame the walker's true foot point is on the other side of the line from where it started, if it
    /// crosses within the segment (computed from the scene, independently of the code under test).
    static func crossingFrame(_ object: SyntheticScene.MovingObject, _ line: LineRule) -> Int? {
        let ax = line.from.x * Double(H.width)
        let ay = line.from.y * Double(H.height)
        let bx = line.to.x * Double(H.width)
        let by = line.to.y * Double(H.height)
        func foot(_ frame: Int) -> (x: Double, y: Double) {
            let rect = object.rect(at: frame)
            return (Double(rect.x) + Double(rect.width) / 2, Double(rect.y + rect.height))
        }
        func side(_ p: (x: Double, y: Double)) -> Bool { (bx - ax) * (p.y - ay) - (by - ay) * (p.x - ax) > 0 }
        let start = side(foot(object.frames.lowerBound))
        for frame in object.frames where side(foot(frame)) != start {
            let p = foot(frame - 1)
            let q = foot(frame)
            // Where the step crosses the line, as a fraction of the segment.
            let t =
                ((p.x - ax) * (q.y - p.y) - (p.y - ay) * (q.x - p.x))
                / ((bx - ax) * (q.y - p.y) - (by - ay) * (q.x - p.x))
            return (0...1).contains(t) ? frame : nil
        }
        return nil
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var line: LineRule
        var walker: SyntheticScene.MovingObject
        var kind: RuleAlert.Kind
        var direction: LineDirection
        var testDescription: String { name }
    }

    static let vertical = LineRule(
        name: "crossing", from: NormalizedPoint(x: 0.5, y: 0.5), to: NormalizedPoint(x: 0.5, y: 0.95),
        direction: .leftToRight)
    static let horizontal = LineRule(
        name: "gate", from: NormalizedPoint(x: 0.2, y: 0.75), to: NormalizedPoint(x: 0.8, y: 0.75),
        direction: .topToBottom)
    /// Slanted: from the bottom left to the upper right, steep enough for left and right to be its crossing ways.
    static let slanted = LineRule(
        name: "kerb", from: NormalizedPoint(x: 0.4, y: 0.95), to: NormalizedPoint(x: 0.6, y: 0.55),
        direction: .rightToLeft)

    static let cases: [Case] = [
        Case(
            name: "left to right, allowed", line: vertical,
            walker: walker(footX: 20, footY: 100, dx: 2, dy: 0, frames: 10..<70), kind: .lineCrossing,
            direction: .leftToRight),
        Case(
            name: "right to left, against left_to_right", line: vertical,
            walker: walker(footX: 140, footY: 100, dx: -2, dy: 0, frames: 10..<70), kind: .wrongWay,
            direction: .rightToLeft),
        Case(
            name: "top to bottom, allowed", line: horizontal,
            walker: walker(footX: 70, footY: 62, dx: 0.3, dy: 1.2, frames: 10..<50), kind: .lineCrossing,
            direction: .topToBottom),
        Case(
            name: "bottom to top, against top_to_bottom", line: horizontal,
            walker: walker(footX: 90, footY: 116, dx: -0.3, dy: -1.2, frames: 10..<50), kind: .wrongWay,
            direction: .bottomToTop),
        Case(
            name: "slanted, right to left allowed", line: slanted,
            walker: walker(footX: 140, footY: 95, dx: -2, dy: 0, frames: 10..<70), kind: .lineCrossing,
            direction: .rightToLeft),
        Case(
            name: "slanted, left to right against it", line: slanted,
            walker: walker(footX: 20, footY: 90, dx: 2, dy: 0.2, frames: 10..<70), kind: .wrongWay,
            direction: .leftToRight),
        Case(
            name: "any way: reported with its direction",
            line: LineRule(name: "any", from: vertical.from, to: vertical.to, direction: .any),
            walker: walker(footX: 140, footY: 100, dx: -2, dy: 0, frames: 10..<70), kind: .lineCrossing,
            direction: .rightToLeft),
    ]

    @Test("a crossing is reported once, with its direction, within 0.5 s", arguments: cases)
    func crossing(_ test: Case) throws {
        let scene = try H.scene()
        scene.objects = [test.walker]
        let truth = try #require(Self.crossingFrame(test.walker, test.line), "the walker must cross the segment")
        let alerts = H.run(
            scene, frames: test.walker.frames.upperBound + 10, configuration: H.configuration(lines: [test.line]))
        #expect(alerts.count == 1, "\(H.describe(alerts))")
        let alert = try #require(alerts.first)
        #expect(alert.kind == test.kind)
        #expect(alert.direction == test.direction)
        #expect(alert.line == test.line.name && alert.rule == test.line.name)
        #expect((truth...(truth + 5)).contains(alert.frame), "crossed at frame \(truth), reported at \(alert.frame)")
        #expect(alert.startFrame == alert.frame && alert.time == Double(alert.frame) / H.rate)
        #expect(alert.confidence >= 0.5 && alert.confidence <= 1)
        let box = try #require(alert.boxes.first)
        let iou = box.iou(H.truth(test.walker, frame: alert.frame))
        #expect(iou >= 0.5, "box \(box), IoU \(iou)")
    }

    @Test func thereAndBackIsTwoCrossings() throws {
        let scene = try H.scene()
        let there = Self.walker(footX: 20, footY: 100, dx: 2, dy: 0, frames: 10..<70)
        let back = Self.walker(footX: 140, footY: 104, dx: -2, dy: 0, frames: 90..<150, luma: 30)
        scene.objects = [there, back]
        let line = LineRule(name: "any", from: Self.vertical.from, to: Self.vertical.to)
        let alerts = H.run(scene, frames: 160, configuration: H.configuration(lines: [line]))
        #expect(alerts.map(\.kind) == [.lineCrossing, .lineCrossing], "\(H.describe(alerts))")
        #expect(alerts.map(\.direction) == [.leftToRight, .rightToLeft])
    }

    @Test func aCrossingOutsideTheSegmentIsIgnored() throws {
        let scene = try H.scene()
        // The walker's foot stays at y = 100 px (0.83); the segment stops at 0.45 (and another starts at 0.9).
        let walker = Self.walker(footX: 20, footY: 100, dx: 2, dy: 0, frames: 10..<70)
        scene.objects = [walker]
        let lines = [
            LineRule(name: "upper", from: NormalizedPoint(x: 0.5, y: 0.1), to: NormalizedPoint(x: 0.5, y: 0.45)),
            LineRule(name: "lower", from: NormalizedPoint(x: 0.4, y: 0.9), to: NormalizedPoint(x: 0.6, y: 1)),
        ]
        #expect(lines.allSatisfy { Self.crossingFrame(walker, $0) == nil })
        let alerts = H.run(scene, frames: 80, configuration: H.configuration(lines: lines))
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    /// Walkers along the horizontal line at y = 90 px: on it, bobbing by ±2 pixels (about a grid cell) every
    /// other frame, and 5 pixels to either side.
    @Test("walking along a line without crossing it raises nothing", arguments: [-5.0, 0, 5])
    func walkingAlongTheLine(offset: Double) throws {
        let scene = try H.scene()
        let footY = 90 + offset
        scene.objects = (0..<30).map { step in
            let bob = offset == 0 ? (step % 2 == 0 ? -2.0 : 2.0) : 0
            return Self.walker(
                footX: 14 + Double(step) * 4, footY: footY + bob, dx: 2, dy: 0,
                frames: (10 + step * 2)..<(12 + step * 2))
        }
        let line = LineRule(
            name: "along", from: NormalizedPoint(x: 0.05, y: 0.75), to: NormalizedPoint(x: 0.95, y: 0.75))
        let alerts = H.run(scene, frames: 80, configuration: H.configuration(lines: [line]))
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    @Test func noLinesMeansNoTracking() throws {
        let scene = try H.scene()
        scene.objects = [Self.walker(footX: 20, footY: 100, dx: 2, dy: 0, frames: 10..<70)]
        var tracks = 0
        let alerts = H.run(
            scene, frames: 40, configuration: H.configuration(),
            each: { _, rules in tracks += rules.tracker.tracks.count })
        #expect(alerts.isEmpty)
        #expect(tracks == 0)
    }
}
