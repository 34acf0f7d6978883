@testable import VigieCore

/// Runs synthetic scenes through the real mask and motion detector into `ObjectRules`, as the camera path does.
enum ObjectRulesHarness {
    static let rate = 10.0
    /// Small frames and an 80-column grid (cells of 2 × 2 pixels) keep the suites fast in debug builds.
    static let width = 160
    static let height = 120

    static func configuration(lines: [LineRule] = [], abandoned: AbandonedSettings? = nil) -> Configuration {
        var configuration = Configuration()
        configuration.motion.gridColumns = 80
        configuration.lines = lines
        if let abandoned { configuration.abandoned = abandoned }
        return configuration
    }

    static func scene(noise: Double = 3, seed: UInt64 = 7) throws -> SyntheticScene {
        let scene = SyntheticScene(
            geometry: try FrameGeometry(format: .i420, width: width, height: height), framesPerSecond: rate,
            seed: seed)
        scene.noiseSigma = noise
        return scene
    }

    /// Every alert over `frames` frames; `effect` may alter each rendered frame before it is masked.
    static func run(
        _ scene: SyntheticScene, frames: Int, configuration: Configuration,
        effect: (Int, Frame) -> Void = { _, _ in }, each: (Int, ObjectRules) -> Void = { _, _ in }
    ) -> [RuleAlert] {
        let raster = configuration.mask.raster(for: scene.geometry)
        let detector = MotionDetector(
            geometry: scene.geometry, mask: raster, settings: configuration.motion, zones: configuration.zones)
        let rules = ObjectRules(configuration: configuration, detector: detector, mask: raster)
        let frame = Frame(geometry: scene.geometry)
        var alerts: [RuleAlert] = []
        for index in 0..<frames {
            scene.render(frame: index, into: frame)
            effect(index, frame)
            raster.apply(to: frame) { masked in
                detector.detect(masked)
                let sequence = masked.sequence
                let time = masked.timestamp
                alerts += detector.withGrid {
                    rules.update(boxes: detector.boxes, grid: $0, frame: sequence, time: time)
                }
            }
            each(index, rules)
        }
        return alerts
    }

    /// This many bright streaks of 1 × 4 pixels at random places in the luma plane (rain in front of the lens).
    static func rain(_ frame: Frame, streaks: Int, random: inout SplitMix) {
        let plane = frame.geometry.planes[0]
        for _ in 0..<streaks {
            let x = Int(random.next() % UInt64(frame.geometry.width))
            let y = Int(random.next() % UInt64(frame.geometry.height - 4))
            for dy in 0..<4 {
                let at = plane.offset + (y + dy) * plane.stride + x
                frame.bytes[at] = UInt8(min(255, Int(frame.bytes[at]) + 60))
            }
        }
    }

    /// An object's rectangle at `frame`, normalised.
    static func truth(_ object: SyntheticScene.MovingObject, frame: Int) -> NormalizedRect {
        let rect = object.rect(at: frame)
        return NormalizedRect(
            x: Double(rect.x) / Double(width), y: Double(rect.y) / Double(height),
            width: Double(rect.width) / Double(width), height: Double(rect.height) / Double(height))
    }

    static func describe(_ alerts: [RuleAlert]) -> String {
        alerts.map { "\($0.kind.rawValue)\($0.direction.map { "(\($0.rawValue))" } ?? "")@\($0.frame)" }
            .joined(separator: ", ")
    }
}
