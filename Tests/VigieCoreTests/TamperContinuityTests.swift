import Testing
import VigieCore

/// A tampering across a camera reconnect or a reload is neither forgotten nor left open, and a camera turned for
/// good is not `tamper_moved` for ever. The scenes and effects are `TamperDetectorTests`'.
@Suite("Tamper continuity", .serialized)
struct TamperContinuityTests {
    typealias Scenes = TamperDetectorTests
    static let rate = Scenes.rate

    /// A covered lens from `Scenes.start` to `Scenes.end`, run through pipelines that `step` may replace or
    /// restart at a frame; every tamper change, with the frame it was reported at.
    static func covered(
        frames: Int = 250, step: (Int, FramePipeline) -> FramePipeline = { $1 }
    ) throws -> [TamperChange] {
        let scene = try Scenes.scene()
        scene.gain = { Scenes.tampered.contains($0) ? 0.04 : 1 }
        var pipeline = FramePipeline(configuration: Scenes.configuration, geometry: scene.geometry)
        let frame = Frame(geometry: scene.geometry)
        var changes: [TamperChange] = []
        for index in 0..<frames {
            let next = step(index, pipeline)
            if next !== pipeline, let change = next.tamperChange { changes.append(change) }
            pipeline = next
            scene.render(frame: index, into: frame)
            pipeline.process(frame)
            if let change = pipeline.tamperChange { changes.append(change) }
        }
        return changes
    }

    /// The street at 2 frames per second: minutes of it stay quick to run.
    static let slowRate = 2.0
    static func slowScene() throws -> SyntheticScene {
        let scene = SyntheticScene(
            geometry: try FrameGeometry(format: .i420, width: Scenes.width, height: Scenes.height),
            framesPerSecond: slowRate, seed: 7)
        scene.noiseSigma = 3
        return scene
    }

    static func describe(_ changes: [TamperChange]) -> String {
        "\(changes.map { "\($0.kind)\($0.reason.map { "(\($0))" } ?? "")@\($0.frame)" })"
    }

    @Test("a camera reconnected while covered is still covered, and cleared when it is right")
    func reconnectKeepsTheState() throws {
        var restartedAt: [Int] = []
        let changes = try Self.covered { index, pipeline in
            // The camera drops out twice while covered (and once before), as an unplugged USB camera does.
            if [30, 100, 120].contains(index) {
                _ = pipeline.restart()
                restartedAt.append(index)
                #expect(pipeline.tamper?.state == (index == 30 ? nil : .covered), "state kept at \(index)")
            }
            return pipeline
        }
        #expect(restartedAt == [30, 100, 120])
        Scenes.expectReportedAndCleared(changes, as: .covered)
        #expect(changes.last?.reason == .view, Comment(rawValue: Self.describe(changes)))
    }

    @Test("a reload that keeps the grid and masks carries a tampering on; one that cannot says it is over")
    func reloadCarriesOrClears() throws {
        // The same configuration reloaded (another zone, say): the state goes on.
        let carried = try Self.covered { index, pipeline in
            index == 100
                ? FramePipeline(configuration: Scenes.configuration, geometry: pipeline.geometry, replacing: pipeline)
                : pipeline
        }
        Scenes.expectReportedAndCleared(carried, as: .covered)

        // New masks, or tamper detection turned off: the centre is told the tampering is no longer followed.
        var masked = Scenes.configuration
        masked.mask = PrivacyMask(polygons: [try MaskPolygon(name: "door", points: Fixtures.rectangle(0, 0, 0.2, 0.3))])
        var disabled = Scenes.configuration
        disabled.tamper.enabled = false
        for configuration in [masked, disabled] {
            let changes = try Self.covered(frames: 110) { index, pipeline in
                index == 100
                    ? FramePipeline(configuration: configuration, geometry: pipeline.geometry, replacing: pipeline)
                    : pipeline
            }
            #expect(
                changes.map(\.kind) == ["tamper_covered", "tamper_cleared"], Comment(rawValue: Self.describe(changes)))
            #expect(changes.last?.reason == .reload && changes.last?.previous == .covered)
            #expect(changes.last.map { $0.frame >= 95 && $0.frame < 100 } == true, "told at the reload, not later")
            // As long as it was reported for: from its report to the last frame before the reload.
            if changes.count == 2 {
                #expect(abs(changes[1].duration - Double(99 - changes[0].frame) / Self.rate) < 1e-6)
            }
        }

        // Nothing in progress: nothing to say.
        let quiet = try Self.covered(frames: 40) { index, pipeline in
            index == 30
                ? FramePipeline(configuration: masked, geometry: pipeline.geometry, replacing: pipeline) : pipeline
        }
        #expect(quiet.isEmpty)
    }

    @Test("a camera turned for good: tamper_moved, then after accept_moved_after its view becomes the reference")
    func movedForGoodIsAccepted() throws {
        var configuration = Scenes.configuration
        configuration.tamper.acceptMovedAfter = 60
        let pixels = Scenes.width / 8
        let frames = Scenes.start + Int(100 * Self.slowRate)
        let changes = Scenes.run(try Self.slowScene(), frames: frames, configuration: configuration) {
            $0 >= Scenes.start ? .shift(pixels) : .none
        }
        #expect(changes.map(\.kind) == ["tamper_moved", "tamper_cleared"], Comment(rawValue: Self.describe(changes)))
        guard changes.count == 2 else { return }
        let moved = changes[0]
        let accepted = changes[1]
        #expect(accepted.reason == .accepted && accepted.previous == .moved)
        let after = accepted.time - moved.time
        #expect(after >= 60 && after <= 60 + 1 / Self.slowRate, "accepted \(after) s after tamper_moved")
        #expect(accepted.confidence >= 0.5)
        // And the default leaves it for some minutes; 0 never accepts.
        #expect(TamperSettings().acceptMovedAfter >= 300)
        configuration.tamper.acceptMovedAfter = 0
        let never = Scenes.run(try Self.slowScene(), frames: frames, configuration: configuration) {
            $0 >= Scenes.start ? .shift(pixels) : .none
        }
        #expect(never.map(\.kind) == ["tamper_moved"], Comment(rawValue: Self.describe(never)))
    }

    @Test("a camera put back before accept_moved_after is cleared as usual, and the clock starts at tamper_moved")
    func movedBackIsClearedByTheView() throws {
        var configuration = Scenes.configuration
        configuration.tamper.acceptMovedAfter = 60
        let pixels = Scenes.width / 8
        // Defocused first for 20 s, then moved for 50 s, then back: 70 s of tampering, never 60 s moved.
        let changes = Scenes.run(try Self.slowScene(), frames: 260, configuration: configuration) { index in
            switch index {
            case 50..<90: .blur(2)
            case 90..<190: .shift(pixels)
            default: .none
            }
        }
        #expect(
            changes.map(\.kind) == ["tamper_defocus", "tamper_moved", "tamper_cleared"],
            Comment(rawValue: Self.describe(changes)))
        #expect(changes.last?.reason == .view)
    }

    @Test("[tamper] accept_moved_after: 0 or a minute to a week; a shorter one is named with its file and line")
    func acceptMovedAfterSetting() throws {
        let configuration = try Configuration.parse("[tamper]\naccept_moved_after = 900\n", file: "unit.toml")
        #expect(configuration.tamper.acceptMovedAfter == 900)
        for (value, accepted) in [("0", true), ("30", false), ("-1", false), ("700000", false), ("60", true)] {
            do {
                _ = try Configuration.parse("\n[tamper]\naccept_moved_after = \(value)\n", file: "unit.toml")
                #expect(accepted, "\(value) is refused")
            } catch {
                #expect(!accepted, "\(value) is taken")
                #expect(
                    error.issues.map { "\($0.file):\($0.line):\($0.key)" } == ["unit.toml:3:tamper.accept_moved_after"])
            }
        }
    }
}
