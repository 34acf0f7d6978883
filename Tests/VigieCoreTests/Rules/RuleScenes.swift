import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Synthetic scenes for the rules, with their ground truth, run through the real pipeline (mask → motion → rules).
///
/// Small frames (160 × 120) and a grid of 80 cells across (cells of 2 × 2 pixels) keep the suites fast in debug
/// builds; what the rules measure is relative to the image, so the defaults behave the same on larger frames.
enum RuleScenes {
    static let rate = 10.0
    static let width = 160
    static let height = 120

    /// What is done to a rendered frame's luma, per frame, on top of the scene's objects and gain.
    enum Effect {
        case none
        /// A patch of leaf clumps over `rect` (pixels) swaying sideways by up to `amplitude` pixels every `period`
        /// seconds: present from the first frame, so part of the background the detector learns.
        case foliage(rect: (x: Int, y: Int, width: Int, height: Int), amplitude: Double, period: Double)
        /// A bright vertical band (`width` pixels, +`boost` grey levels) sweeping the lower half from left to right
        /// in `seconds`, starting at frame `start`: a car's headlights turning.
        case headlights(start: Int, seconds: Double, width: Int, boost: Double)
        /// This many bright 1 × 4 streaks at random places per frame.
        case rain(Int)
        /// `luma × gain + offset` from frame `start` on: the infrared switch (grey, flat, brighter).
        case infrared(start: Int, gain: Double, offset: Double)
    }

    static var configuration: Configuration {
        var configuration = Configuration()
        configuration.motion.gridColumns = 80
        configuration.tamper.enabled = false
        return configuration
    }

    static func scene(noise: Double = 3, seed: UInt64 = 7) throws -> SyntheticScene {
        let scene = SyntheticScene(
            geometry: try FrameGeometry(format: .i420, width: width, height: height), framesPerSecond: rate, seed: seed)
        scene.noiseSigma = noise
        return scene
    }

    static func polygon(_ name: String, _ points: [(Double, Double)]) -> MaskPolygon {
        try! MaskPolygon(name: name, points: points.map { NormalizedPoint(x: $0.0, y: $0.1) })
    }

    /// An axis-aligned rectangle zone, in fractions of the image.
    static func zone(
        _ name: String, kind: Zone.Kind, x: Double, y: Double, width: Double, height: Double,
        minimumArea: Double = 0.005, dwell: Double = 2, highOccupancy: Double = 0.3,
        schedule: ZoneSchedule = .always
    ) -> Zone {
        Zone(
            name: name,
            polygon: polygon(name, [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]),
            sensitivity: 0.5, minimumArea: minimumArea, kind: kind, schedule: schedule, dwell: dwell,
            highOccupancy: highOccupancy)
    }

    /// Every alert over `frames` frames; `armed(i)` and `localTime(i)` are what the unit would pass for frame `i`.
    /// `onEnd` gets the ends of raised situations (`FramePipeline.ruleEnds`) with the frame that decided each.
    static func run(
        _ scene: SyntheticScene, frames: Int, configuration: Configuration, effect: Effect = .none,
        armed: (Int) -> Bool = { _ in true }, localTime: (Int) -> LocalTime? = { _ in nil },
        onEnd: (RuleEnd, Int) -> Void = { _, _ in }
    ) -> [RuleAlert] {
        let pipeline = FramePipeline(configuration: configuration, geometry: scene.geometry)
        let frame = Frame(geometry: scene.geometry)
        var random = SplitMix(seed: 99)
        var alerts: [RuleAlert] = []
        for index in 0..<frames {
            scene.render(frame: index, into: frame)
            apply(effect, frame: index, to: frame, random: &random)
            pipeline.process(frame, armed: armed(index), localTime: localTime(index))
            alerts += pipeline.ruleAlerts
            for end in pipeline.ruleEnds { onEnd(end, index) }
        }
        return alerts
    }

    static func apply(_ effect: Effect, frame index: Int, to frame: Frame, random: inout SplitMix) {
        let plane = frame.geometry.planes[0]
        func update(_ x: Int, _ y: Int, _ change: (Double) -> Double) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let offset = plane.offset + y * plane.stride + x
            frame.bytes[offset] = UInt8(max(0, min(255, change(Double(frame.bytes[offset])).rounded())))
        }
        switch effect {
        case .none: break
        case .foliage(let rect, let amplitude, let period):
            let time = Double(index) / rate
            let shift = Int((amplitude * sin(2 * .pi * time / period)).rounded())
            for y in rect.y..<(rect.y + rect.height) {
                for x in rect.x..<(rect.x + rect.width) {
                    // Clumps of about 3 × 3 pixels, dark leaves on lighter ones, drawn shifted by the wind.
                    let u = (x - rect.x + shift + 64) / 3
                    let v = (y - rect.y) / 3
                    let leaf = (u &* 7 &+ v &* 13) % 5 < 2
                    update(x, y) { _ in leaf ? 50 : 110 }
                }
            }
        case .headlights(let start, let seconds, let bandWidth, let boost):
            let frames = seconds * rate
            guard index >= start, Double(index - start) <= frames else { return }
            let left = Int(Double(index - start) / frames * Double(width + bandWidth)) - bandWidth
            for y in (height / 2)..<height {
                for x in left..<(left + bandWidth) { update(x, y) { $0 + boost } }
            }
        case .rain(let streaks):
            for _ in 0..<streaks {
                let x = Int(random.next() % UInt64(width))
                let y = Int(random.next() % UInt64(height))
                for dy in 0..<4 { update(x, y + dy) { $0 + 60 } }
            }
        case .infrared(let start, let gain, let offset):
            guard index >= start else { return }
            for y in 0..<height {
                for x in 0..<width { update(x, y) { $0 * gain + offset } }
            }
        }
    }

    /// A person-sized object (8 × 24 pixels, 1 % of the image) walking from `from` to `to` (pixels of its top-left
    /// corner) over `seconds`, from frame `start`, then standing still there until `until`.
    static func walker(
        from: (Double, Double), to: (Double, Double), seconds: Double, start: Int, until: Int, luma: UInt8 = 30
    ) -> [SyntheticScene.MovingObject] {
        let frames = max(1, Int(seconds * rate))
        let walk = SyntheticScene.MovingObject(
            x: from.0, y: from.1, width: 8, height: 24, dx: (to.0 - from.0) / Double(frames),
            dy: (to.1 - from.1) / Double(frames), luma: luma, frames: start..<(start + frames))
        guard until > start + frames else { return [walk] }
        let stand = SyntheticScene.MovingObject(
            x: to.0, y: to.1, width: 8, height: 24, dx: 0, dy: 0, luma: luma, frames: (start + frames)..<until)
        return [walk, stand]
    }
}
