import Testing
import VigieCore

/// Synthetic street scenes at 10 frames per second with a known tampering (or a known harmless change) from frame
/// 50 on, run through the real pipeline (mask → motion → tamper). Each tampering must be reported within 5 s of
/// its start and cleared within 5 s of its end; the hard negatives must raise nothing at all.
@Suite("Tamper detection", .serialized)
struct TamperDetectorTests {
    /// What is done to a rendered frame's luma, per frame.
    enum Effect {
        case none
        /// A box blur of this radius in pixels (a (2r+1)² kernel): defocus.
        case blur(Int)
        /// The view translated right by this many pixels (wrapping round): the camera turned.
        case shift(Int)
        /// `luma × gain + offset`: a global change of light or of the camera's mode.
        case affine(gain: Double, offset: Double)
        /// This many bright streaks of 1 × 4 pixels at random places (rain in front of the lens).
        case rain(Int)
    }

    static let rate = 10.0
    /// Small frames and a coarser grid than the default (80 cells across, of 2 × 2 pixels) keep the suite fast in
    /// debug builds; what is measured is relative to the grid, so the default 160 behaves the same on larger frames.
    static let width = 160
    static let height = 120

    static var configuration: Configuration {
        var configuration = Configuration()
        configuration.motion.gridColumns = 80
        return configuration
    }
    static let start = 50
    static let end = 150

    static func scene(noise: Double = 3) throws -> SyntheticScene {
        let scene = SyntheticScene(
            geometry: try FrameGeometry(format: .i420, width: width, height: height), framesPerSecond: rate, seed: 7)
        scene.noiseSigma = noise
        return scene
    }

    /// Every tamper change over `frames` frames.
    static func run(
        _ scene: SyntheticScene, frames: Int, configuration: Configuration = Self.configuration,
        effect: (Int) -> Effect = { _ in .none }
    ) -> [TamperChange] {
        let pipeline = FramePipeline(configuration: configuration, geometry: scene.geometry)
        let frame = Frame(geometry: scene.geometry)
        var random = SplitMix(seed: 99)
        var changes: [TamperChange] = []
        for index in 0..<frames {
            scene.render(frame: index, into: frame)
            apply(effect(index), to: frame, random: &random)
            pipeline.process(frame)
            if let change = pipeline.tamperChange { changes.append(change) }
        }
        return changes
    }

    static func apply(_ effect: Effect, to frame: Frame, random: inout SplitMix) {
        if case .none = effect { return }
        let width = frame.geometry.width
        let height = frame.geometry.height
        let plane = frame.geometry.planes[0]
        var luma = [Double](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width { luma[y * width + x] = Double(frame.bytes[plane.offset + y * plane.stride + x]) }
        }
        switch effect {
        case .none: break
        case .blur(let radius):
            var rows = luma
            for y in 0..<height {
                for x in 0..<width {
                    var total = 0.0
                    for dx in -radius...radius { total += luma[y * width + min(width - 1, max(0, x + dx))] }
                    rows[y * width + x] = total / Double(2 * radius + 1)
                }
            }
            for y in 0..<height {
                for x in 0..<width {
                    var total = 0.0
                    for dy in -radius...radius { total += rows[min(height - 1, max(0, y + dy)) * width + x] }
                    luma[y * width + x] = total / Double(2 * radius + 1)
                }
            }
        case .shift(let pixels):
            let source = luma
            for y in 0..<height {
                for x in 0..<width { luma[y * width + x] = source[y * width + (x - pixels + width) % width] }
            }
        case .affine(let gain, let offset):
            luma = luma.map { $0 * gain + offset }
        case .rain(let streaks):
            for _ in 0..<streaks {
                let x = Int(random.next() % UInt64(width))
                let y = Int(random.next() % UInt64(height))
                for dy in 0..<4 where y + dy < height { luma[(y + dy) * width + x] += 60 }
            }
        }
        for y in 0..<height {
            for x in 0..<width {
                frame.bytes[plane.offset + y * plane.stride + x] = UInt8(
                    max(0, min(255, luma[y * width + x].rounded())))
            }
        }
    }

    /// The tampering is reported once, as `state`, within 5 s of frame `start`, and cleared once, within 5 s of
    /// frame `end`; nothing else.
    static func expectReportedAndCleared(_ changes: [TamperChange], as state: TamperState) {
        let limit = Int(5 * rate)
        #expect(changes.count == 2, "\(changes.map { "\($0.kind)@\($0.frame)" })")
        guard changes.count == 2 else { return }
        #expect(changes[0].state == state, "\(changes[0].kind) \(changes[0].measurement)")
        #expect(changes[0].previous == nil)
        #expect((start...(start + limit)).contains(changes[0].frame), "raised at frame \(changes[0].frame)")
        #expect(changes[0].confidence >= 0.5 && changes[0].confidence <= 1)
        #expect(changes[1].state == nil && changes[1].previous == state)
        #expect((end...(end + limit)).contains(changes[1].frame), "cleared at frame \(changes[1].frame)")
        #expect(changes[1].duration > 0)
    }

    static let tampered = start..<end

    @Test(
        "a lens covered dark, with a uniform surface, or blinded is tamper_covered",
        arguments: ["dark", "grey", "white"])
    func covered(how: String) throws {
        let scene = try Self.scene()
        switch how {
        case "dark": scene.gain = { Self.tampered.contains($0) ? 0.04 : 1 }
        default:
            scene.objects = [
                .init(
                    x: 0, y: 0, width: Double(Self.width), height: Double(Self.height), dx: 0, dy: 0,
                    luma: how == "grey" ? 128 : 245,
                    frames: Self.tampered)
            ]
        }
        let changes = Self.run(scene, frames: 250)
        Self.expectReportedAndCleared(changes, as: .covered)
    }

    @Test("a blurred view (a 5-pixel box, 3 % of the width) is tamper_defocus")
    func defocus() throws {
        let changes = Self.run(try Self.scene(), frames: 250) { Self.tampered.contains($0) ? .blur(2) : .none }
        Self.expectReportedAndCleared(changes, as: .defocus)
    }

    @Test("a view shifted by 10 to 20 % of the width is tamper_moved", arguments: [0.1, 0.13, 0.2])
    func moved(fraction: Double) throws {
        let pixels = Int(Double(Self.width) * fraction)
        let changes = Self.run(try Self.scene(), frames: 250) { Self.tampered.contains($0) ? .shift(pixels) : .none }
        Self.expectReportedAndCleared(changes, as: .moved)
    }

    @Test func coveredIsFoundWithMostOfTheImageMasked() throws {
        let scene = try Self.scene()
        scene.gain = { Self.tampered.contains($0) ? 0.04 : 1 }
        var configuration = Self.configuration
        configuration.mask = PrivacyMask(polygons: [
            try MaskPolygon(name: "houses", points: Fixtures.rectangle(0, 0, 0.6, 1))
        ])
        Self.expectReportedAndCleared(Self.run(scene, frames: 250, configuration: configuration), as: .covered)
    }

    @Test func duskOverTwentySecondsRaisesNothing() throws {
        let scene = try Self.scene()
        // Mean luma falls by 70 %, linearly over 20 s, then stays there.
        scene.gain = { frame in 1 - 0.7 * min(1, max(0, Double(frame - Self.start) / (20 * Self.rate))) }
        let changes = Self.run(scene, frames: 400)
        #expect(changes.isEmpty, "\(changes.map { "\($0.kind)@\($0.frame) \($0.measurement)" })")
    }

    @Test(
        "the infrared switch (a level and contrast step at once) raises nothing",
        arguments: [(0.55, 45.0), (1.3, -10.0)])
    func infraredSwitch(gain: Double, offset: Double) throws {
        let changes = Self.run(try Self.scene(), frames: 250) {
            $0 >= Self.start ? .affine(gain: gain, offset: offset) : .none
        }
        #expect(changes.isEmpty, "\(changes.map { "\($0.kind)@\($0.frame) \($0.measurement)" })")
    }

    @Test func streetLightsSwitchingOnRaiseNothing() throws {
        let scene = try Self.scene()
        scene.gain = { $0 >= Self.start ? 1.4 : 1 }
        let changes = Self.run(scene, frames: 250)
        #expect(changes.isEmpty, "\(changes.map { "\($0.kind)@\($0.frame) \($0.measurement)" })")
    }

    @Test("a bus crossing the view, or stopping in front of it, for 2 s raises nothing", arguments: [true, false])
    func largeVehicle(crossing: Bool) throws {
        let scene = try Self.scene()
        let frames = Self.start..<(Self.start + 20)
        let width = Double(Self.width)
        let height = Double(Self.height)
        scene.objects = [
            crossing
                // 70 % of the width and 80 % of the height, across the whole view in 2 s.
                ? .init(
                    x: -0.7 * width, y: 0.125 * height, width: 0.7 * width, height: 0.8 * height, dx: 1.7 * width / 20,
                    dy: 0, luma: 40, frames: frames)
                // 90 % of the view, still.
                : .init(
                    x: 0.05 * width, y: 0.05 * height, width: 0.9 * width, height: 0.9 * height, dx: 0, dy: 0,
                    luma: 200, frames: frames)
        ]
        let changes = Self.run(scene, frames: 200)
        #expect(changes.isEmpty, "\(changes.map { "\($0.kind)@\($0.frame) \($0.measurement)" })")
    }

    @Test func rainRaisesNothing() throws {
        let scene = try Self.scene(noise: 6)
        let changes = Self.run(scene, frames: 250) { $0 >= Self.start ? .rain(75) : .none }
        #expect(changes.isEmpty, "\(changes.map { "\($0.kind)@\($0.frame) \($0.measurement)" })")
    }

    @Test func disabledMeansNoDetector() throws {
        var configuration = Self.configuration
        configuration.tamper.enabled = false
        let scene = try Self.scene()
        scene.gain = { Self.tampered.contains($0) ? 0.04 : 1 }
        #expect(Self.run(scene, frames: 120, configuration: configuration).isEmpty)
        #expect(FramePipeline(configuration: configuration, geometry: scene.geometry).tamper == nil)
    }
}
