import Logging
import Synchronization
import Testing
import VigieCore
import VigieImage

@testable import VigieDaemon

/// Tamper detection wired into the camera service: a recording whose lens gets covered, played through
/// `CameraService` into the daemon's `EventSink`, as `vigied` wires them.
@Suite("Camera service: tamper")
struct CameraServiceTamperTests {
    /// A street at 10 frames per second, covered from frame 50 to 150, as a Y4M file.
    static func coveredClip(frames: Int = 250) throws -> String {
        let geometry = try FrameGeometry(format: .i420, width: 160, height: 120)
        let scene = SyntheticScene(geometry: geometry, framesPerSecond: 10, seed: 7)
        scene.noiseSigma = 3
        scene.gain = { (50..<150).contains($0) ? 0.04 : 1 }
        let path = CameraServiceTests.temporaryDirectory() + "/covered.y4m"
        let writer = try Y4MWriter(
            path: path, header: Y4MHeader(geometry: geometry, frameRateNumerator: 10, frameRateDenominator: 1))
        let frame = Frame(geometry: geometry)
        for index in 0..<frames {
            scene.render(frame: index, into: frame)
            try writer.write(frame)
        }
        return path
    }

    static func configuration(clip: String) -> Configuration {
        var configuration = Configuration()
        configuration.source = .y4m(path: clip)
        configuration.loop = false
        configuration.motion.gridColumns = 80
        return configuration
    }

    /// Runs `configuration` through a camera service wired to an event sink; every tamper event the sink saw,
    /// with the frame the camera had reached. `react` runs on the camera thread for each, as the sink's observers
    /// do.
    static func run(
        _ configuration: Configuration, react: @escaping @Sendable (UnitEvent, CameraService) -> Void = { _, _ in }
    ) throws -> [UnitEvent] {
        let logger = Logger(label: "test")
        let events = EventSink(uplink: nil, logger: logger)
        let seen = Mutex<[UnitEvent]>([])
        let service = Mutex<CameraService?>(nil)
        events.observe { event in
            guard case .tamper = event else { return }
            seen.withLock { $0.append(event) }
            if let camera = service.withLock({ $0 }) { react(event, camera) }
        }
        let camera = CameraService(
            configuration: configuration, logger: logger, paced: false, notify: { events.raise($0) })
        service.withLock { $0 = camera }
        let report = try camera.run()
        #expect(report.frames == 250)
        return seen.withLock { $0 }
    }

    static func change(_ event: UnitEvent) -> TamperChange? {
        if case .tamper(let change, _) = event { change } else { nil }
    }

    @Test("a covered lens reaches the event sink as tamper_covered with a masked snapshot, then tamper_cleared")
    func coveredThenCleared() throws {
        var configuration = Self.configuration(clip: try Self.coveredClip())
        configuration.mask = PrivacyMask(polygons: [
            try MaskPolygon(name: "window", points: [.init(x: 0, y: 0), .init(x: 0.3, y: 0), .init(x: 0, y: 0.3)])
        ])
        let events = try Self.run(configuration)
        #expect(events.map(\.kind) == ["tamper_covered", "tamper_cleared"])
        guard events.count == 2, let covered = Self.change(events[0]), let cleared = Self.change(events[1]) else {
            return
        }
        #expect((50...100).contains(covered.frame), "covered within 5 s: frame \(covered.frame)")
        #expect((150...200).contains(cleared.frame), "cleared within 5 s: frame \(cleared.frame)")
        let raised = events[0].uplinkEvent
        #expect(raised.kind == "tamper_covered" && raised.priority == Priority.alert)
        let snapshot = try #require(raised.snapshot, "the covered view's snapshot goes with the alert")
        let image = try JPEGDecoder().decode(snapshot)
        #expect(image.width == 160 && image.height == 120)
        #expect(image.luma(x: 4, y: 4) <= 3, "masked in the snapshot")
        let details = Dictionary(uniqueKeysWithValues: events[1].uplinkEvent.details.map { ($0.key, $0.value) })
        #expect(details["was"] == "covered" && details["reason"] == "view")
    }

    @Test("a reload while covered: the same masks carry the alert on; new masks clear it with reason reload")
    func reloadWhileCovered() throws {
        let clip = try Self.coveredClip()
        let base = Self.configuration(clip: clip)
        var remasked = base
        remasked.mask = PrivacyMask(polygons: [
            try MaskPolygon(name: "door", points: [.init(x: 0.7, y: 0.7), .init(x: 1, y: 0.7), .init(x: 1, y: 1)])
        ])
        for (next, expected) in [
            (base, ["tamper_covered", "tamper_cleared"]), (remasked, ["tamper_covered", "tamper_cleared"]),
        ] {
            let reloaded = Mutex(false)
            let events = try Self.run(base) { event, camera in
                // Reloaded from the camera thread as the alert is raised: applied before the next frame.
                if event.kind == "tamper_covered" && !reloaded.withLock({ $0 }) {
                    reloaded.withLock { $0 = true }
                    camera.reload(next)
                }
            }
            #expect(events.map(\.kind) == expected)
            guard events.count == 2, let covered = Self.change(events[0]), let cleared = Self.change(events[1]) else {
                continue
            }
            if next == base {
                #expect(
                    cleared.reason == .view && (150...200).contains(cleared.frame), "carried on, cleared by the view")
            } else {
                #expect(cleared.reason == .reload && cleared.frame == covered.frame, "over at the reload")
            }
        }
    }
}
