import Testing
import VigieCore

/// Synthetic scenes with known ground truth, run through the real pipeline (mask → detector → tracker).
@Suite("Motion detection")
struct MotionDetectorTests {
    struct Run {
        var started: [(frame: Int, zone: String, boxes: [NormalizedRect])] = []
        var ended: [MotionEvent] = []
        var boxes: [[MotionBox]] = []
        var globalChanges = 0
    }

    static func run(_ scene: SyntheticScene, frames: Int, configuration: Configuration = Configuration()) -> Run {
        let pipeline = FramePipeline(configuration: configuration, geometry: scene.geometry)
        let frame = Frame(geometry: scene.geometry)
        var result = Run()
        for index in 0..<frames {
            scene.render(frame: index, into: frame)
            let updates = pipeline.process(frame)
            result.boxes.append(pipeline.detector.boxes)
            if pipeline.detector.lastWasGlobalChange { result.globalChanges += 1 }
            for update in updates {
                switch update {
                case .started(let zone, let frame, _, let boxes): result.started.append((frame, zone, boxes))
                case .ended(let event): result.ended.append(event)
                }
            }
        }
        for case .ended(let event) in pipeline.finish() { result.ended.append(event) }
        return result
    }

    static func scene(_ format: PixelFormat = .i420, width: Int = 320, height: Int = 240, noise: Double = 4) throws
        -> SyntheticScene
    {
        let scene = SyntheticScene(geometry: try FrameGeometry(format: format, width: width, height: height), seed: 7)
        scene.noiseSigma = noise
        return scene
    }

    static func truth(_ object: SyntheticScene.MovingObject, frame: Int, _ geometry: FrameGeometry) -> NormalizedRect {
        let rect = object.rect(at: frame)
        return NormalizedRect(
            x: Double(rect.x) / Double(geometry.width), y: Double(rect.y) / Double(geometry.height),
            width: Double(rect.width) / Double(geometry.width), height: Double(rect.height) / Double(geometry.height))
    }

    static let walker = SyntheticScene.MovingObject(
        x: 60, y: 80, width: 40, height: 60, dx: 4, dy: 0.5, luma: 225, frames: 30..<90)

    @Test("a moving object is found within 2 frames with IoU ≥ 0.5", arguments: PixelFormat.allCases)
    func movingObjectIsFound(format: PixelFormat) throws {
        let scene = try Self.scene(format)
        scene.objects = [Self.walker]
        let run = Self.run(scene, frames: 120)
        let first = try #require(run.started.first, "no motion reported")
        #expect(first.frame <= Self.walker.frames.lowerBound + 2)
        #expect(first.frame >= Self.walker.frames.lowerBound)
        let truth = Self.truth(Self.walker, frame: first.frame, scene.geometry)
        let best = first.boxes.map { $0.iou(truth) }.max() ?? 0
        #expect(best >= 0.5, "IoU \(best): \(first.boxes) vs \(truth)")
        // Every frame while it moves, the best box still fits the object.
        for index in (first.frame)..<Self.walker.frames.upperBound {
            let truth = Self.truth(Self.walker, frame: index, scene.geometry)
            let iou = run.boxes[index].map { $0.rect.iou(truth) }.max() ?? 0
            #expect(iou >= 0.5, "frame \(index): IoU \(iou)")
        }
        #expect(run.ended.count == 1)
        #expect(run.ended.first?.startFrame == Self.walker.frames.lowerBound)
        #expect(run.boxes[..<Self.walker.frames.lowerBound].allSatisfy { $0.isEmpty })
    }

    @Test("light steps of ±30 % raise nothing", arguments: [1.3, 0.7])
    func brightnessStep(factor: Double) throws {
        let scene = try Self.scene()
        scene.gain = { $0 < 40 ? 1 : factor }
        let run = Self.run(scene, frames: 150)
        #expect(run.started.isEmpty, "\(run.started.map(\.frame))")
        #expect(run.boxes.allSatisfy { $0.isEmpty })
    }

    @Test func sensorNoiseRaisesNothing() throws {
        let scene = try Self.scene(noise: 4)
        let run = Self.run(scene, frames: 200)
        #expect(run.started.isEmpty)
        #expect(run.boxes.allSatisfy { $0.isEmpty })
    }

    @Test func flickeringLightRaisesNothing() throws {
        let scene = try Self.scene()
        // A failing street lamp: brightness jumps by up to ±20 % from frame to frame.
        scene.gain = { frame in
            var random = SplitMix(seed: UInt64(frame) &* 7919)
            return 0.8 + 0.4 * Fixtures.unit(&random)
        }
        let run = Self.run(scene, frames: 150)
        #expect(run.started.isEmpty)
        #expect(run.boxes.allSatisfy { $0.isEmpty })
    }

    @Test func floodlightIsALightChangeNotMotion() throws {
        let scene = try Self.scene()
        // A floodlight: 90 % of the image brightens unevenly at once.
        scene.objects = [.init(x: 0, y: 0, width: 320, height: 216, dx: 0, dy: 0, luma: 250, frames: 40..<200)]
        let run = Self.run(scene, frames: 80)
        #expect(run.started.isEmpty)
        #expect(run.globalChanges >= 1)
    }

    @Test func motionInsideAMaskRaisesNothing() throws {
        let scene = try Self.scene()
        scene.objects = [Self.walker]
        var configuration = Configuration()
        // The walker's whole path (x 60…340, y 80…170 px) is inside the mask.
        configuration.mask = PrivacyMask(polygons: [
            try MaskPolygon(name: "house", points: Fixtures.rectangle(0.15, 0.3, 0.85, 0.45))
        ])
        let run = Self.run(scene, frames: 120, configuration: configuration)
        #expect(run.started.isEmpty)
        #expect(run.boxes.allSatisfy { $0.isEmpty })
    }

    @Test func motionHalfInsideAMaskStaysOutsideIt() throws {
        let scene = try Self.scene()
        scene.objects = [.init(x: 140, y: 80, width: 60, height: 60, dx: 0, dy: 1, luma: 225, frames: 30..<90)]
        var configuration = Configuration()
        let maskRect = NormalizedRect(x: 0, y: 0, width: 170.0 / 320, height: 1)
        configuration.mask = PrivacyMask(polygons: [
            try MaskPolygon(
                name: "left", points: Fixtures.rectangle(maskRect.x, maskRect.y, maskRect.width, maskRect.height))
        ])
        let run = Self.run(scene, frames: 120, configuration: configuration)
        #expect(!run.started.isEmpty, "the visible half should still be seen")
        let boxes = run.boxes.flatMap { $0 }
        #expect(!boxes.isEmpty)
        for box in boxes { #expect(box.rect.intersection(maskRect) == nil, "\(box.rect) reaches into the mask") }
    }

    @Test func objectBelowMinimumAreaIsIgnored() throws {
        let scene = try Self.scene()
        scene.objects = [.init(x: 100, y: 100, width: 8, height: 8, dx: 3, dy: 0, luma: 230, frames: 30..<90)]
        var configuration = Configuration()
        configuration.motion.minimumArea = 0.005  // 384 px at 320×240; the object is 64 px
        let run = Self.run(scene, frames: 100, configuration: configuration)
        #expect(run.started.isEmpty)
    }

    @Test func zonesNameTheEventAndIgnoreTheRest() throws {
        let scene = try Self.scene()
        scene.objects = [
            .init(x: 200, y: 60, width: 40, height: 60, dx: 0, dy: 1, luma: 225, frames: 30..<70),  // right zone
            .init(x: 20, y: 160, width: 40, height: 40, dx: 1, dy: 0, luma: 225, frames: 30..<70),  // no zone
        ]
        var configuration = Configuration()
        configuration.zones = [
            Zone(
                name: "entrance",
                polygon: try MaskPolygon(name: "entrance", points: Fixtures.rectangle(0.5, 0, 0.5, 0.6)),
                sensitivity: 0.5, minimumArea: 0.001)
        ]
        let run = Self.run(scene, frames: 90, configuration: configuration)
        #expect(run.ended.map(\.zone) == ["entrance"])
        #expect(run.boxes.flatMap { $0 }.allSatisfy { $0.rect.x >= 0.5 })
    }

    @Test func zoneSensitivityChangesWhatIsSeen() throws {
        let scene = try Self.scene(noise: 1)
        // A faint object on the pavement: 14 grey levels above the ground it covers.
        let faint = try Self.meanLuma(scene, x: 130, y: 175, width: 40, height: 20) + 14
        scene.objects = [.init(x: 130, y: 175, width: 40, height: 20, dx: 1, dy: 0, luma: faint, frames: 30..<70)]
        func events(_ sensitivity: Double) -> Int {
            var configuration = Configuration()
            configuration.zones = [Zone(name: "all", polygon: nil, sensitivity: sensitivity, minimumArea: 0.001)]
            return Self.run(scene, frames: 80, configuration: configuration).started.count
        }
        #expect(events(0.2) == 0)
        #expect(events(0.9) == 1)
    }

    /// Mean background luma over a rectangle, without noise.
    static func meanLuma(_ scene: SyntheticScene, x: Int, y: Int, width: Int, height: Int) throws -> UInt8 {
        let frame = Frame(geometry: scene.geometry)
        let saved = scene.noiseSigma
        scene.noiseSigma = 0
        scene.render(frame: 0, into: frame)
        scene.noiseSigma = saved
        var total = 0
        for row in y..<(y + height) {
            for column in x..<(x + width) { total += Int(frame.luma(x: column, y: row)) }
        }
        return UInt8(total / (width * height))
    }

    @Test func restartRelearnsWithoutRaisingMotion() throws {
        let first = try Self.scene()
        let pipeline = FramePipeline(configuration: Configuration(), geometry: first.geometry)
        let frame = Frame(geometry: first.geometry)
        for index in 0..<20 {
            first.render(frame: index, into: frame)
            pipeline.process(frame)
        }
        // The camera comes back pointing elsewhere: a different scene altogether.
        _ = pipeline.restart()
        let second = SyntheticScene(geometry: first.geometry, seed: 99)
        second.noiseSigma = 4
        second.gain = { _ in 0.6 }
        var updates: [MotionEventTracker.Update] = []
        for index in 0..<30 {
            second.render(frame: index, into: frame)
            updates += pipeline.process(frame)
        }
        #expect(updates.isEmpty)
    }
}
