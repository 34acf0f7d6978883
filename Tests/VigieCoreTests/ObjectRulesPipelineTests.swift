import Testing
import VigieCore

/// Lines and abandoned objects through the camera's own path (`FramePipeline` and its `RuleEngine`).
@Suite("Lines and abandoned objects in the pipeline")
struct ObjectRulesPipelineTests {
    typealias H = ObjectRulesHarness

    static func run(_ scene: SyntheticScene, frames: Int, configuration: Configuration, armed: Bool = true)
        -> [RuleAlert]
    {
        let pipeline = FramePipeline(configuration: configuration, geometry: scene.geometry)
        let frame = Frame(geometry: scene.geometry)
        var alerts: [RuleAlert] = []
        for index in 0..<frames {
            scene.render(frame: index, into: frame)
            pipeline.process(frame, armed: armed)
            alerts += pipeline.ruleAlerts
        }
        return alerts
    }

    static var configuration: Configuration {
        var abandoned = AbandonedSettings()
        abandoned.enabled = true
        abandoned.seconds = 10
        return H.configuration(
            lines: [
                LineRule(
                    name: "crossing", from: NormalizedPoint(x: 0.5, y: 0.5), to: NormalizedPoint(x: 0.5, y: 0.95),
                    direction: .leftToRight)
            ], abandoned: abandoned)
    }

    static func scene() throws -> SyntheticScene {
        let scene = try H.scene()
        scene.objects = [
            // A walker crossing the wrong way, then a bag left at frame 100.
            .init(x: 134, y: 70, width: 12, height: 30, dx: -2, dy: 0, luma: 225, frames: 10..<70),
            .init(x: 30, y: 96, width: 14, height: 10, dx: 2, dy: 0, luma: 230, frames: 80..<100),
            .init(x: 70, y: 96, width: 14, height: 10, dx: 0, dy: 0, luma: 230, frames: 100..<1000),
        ]
        return scene
    }

    @Test func crossingsAndObjectsComeOutOfThePipeline() throws {
        let alerts = Self.run(try Self.scene(), frames: 240, configuration: Self.configuration)
        #expect(alerts.map(\.kind) == [.wrongWay, .abandonedObject], "\(H.describe(alerts))")
        #expect(alerts.first?.direction == .rightToLeft)
        #expect(alerts.first?.line == "crossing")
        #expect((200...230) ~= (alerts.last?.frame ?? 0))
    }

    @Test func aDisarmedUnitRaisesNeither() throws {
        let alerts = Self.run(try Self.scene(), frames: 240, configuration: Self.configuration, armed: false)
        #expect(alerts.isEmpty, "\(H.describe(alerts))")
    }

    @Test func withoutLinesOrAbandonedNothingIsAdded() throws {
        let pipeline = FramePipeline(configuration: H.configuration(), geometry: try H.scene().geometry)
        #expect(pipeline.rules.isEmpty)
        let with = FramePipeline(configuration: Self.configuration, geometry: try H.scene().geometry)
        #expect(with.rules.sources.count == 1)
    }
}
