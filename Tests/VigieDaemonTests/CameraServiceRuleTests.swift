import Logging
import Synchronization
import Testing
import VigieCore
import VigieDaemon

/// The rules in the camera service, on the demo street (a person-sized walker crossing the lower part of the image
/// every 8 s, the first from 2 s): alerts raised as `UnitEvent.rule` with a masked snapshot, silenced by disarm,
/// and rule zones applied by a live reload.
@Suite("Camera service rules", .serialized)
struct CameraServiceRuleTests {
    /// The pavement, where the walker's feet are (y 0.87), armed all the time, a dwell of 2 s.
    static var configuration: Configuration {
        var configuration = Configuration()
        configuration.zones = [
            Zone(
                name: "pavement",
                polygon: try! MaskPolygon(
                    name: "pavement",
                    points: [.init(x: 0, y: 0.7), .init(x: 1, y: 0.7), .init(x: 1, y: 1), .init(x: 0, y: 1)]),
                sensitivity: 0.5, minimumArea: 0.005, kind: .intrusion, dwell: 2)
        ]
        return configuration
    }

    static func run(
        _ configuration: Configuration, frames: Int, armed: Bool = true,
        onNotice: @escaping @Sendable (UnitEvent, CameraService) -> Void = { _, _ in }
    ) throws -> (CameraService.Report, [UnitEvent]) {
        let notices = Mutex<[UnitEvent]>([])
        let holder = Mutex<CameraService?>(nil)
        let service = CameraService(
            configuration: configuration, logger: Logger(label: "test"), frameLimit: frames, paced: false
        ) { notice in
            notices.withLock { $0.append(notice) }
            if let service = holder.withLock({ $0 }) { onNotice(notice, service) }
        }
        holder.withLock { $0 = service }
        service.setArmed(armed)
        let report = try service.run()
        return (report, notices.withLock { $0 })
    }

    static func alerts(_ notices: [UnitEvent]) -> [(RuleAlert, [UInt8]?)] {
        notices.compactMap { if case .rule(let alert, let snapshot) = $0 { (alert, snapshot) } else { nil } }
    }

    @Test("an intrusion is raised as an alert event with a masked snapshot, a dwell after the walker enters")
    func raised() throws {
        let (report, notices) = try Self.run(Self.configuration, frames: 60)
        let alerts = Self.alerts(notices)
        #expect(alerts.count == 1 && report.alerts == 1)
        guard let (alert, snapshot) = alerts.first else { return }
        #expect(alert.kind == .intrusion && alert.zone == "pavement")
        // The walker enters at 2 s (frame 20): the alert within dwell + 1 s of it.
        #expect((20...23).contains(alert.startFrame) && (40...50).contains(alert.frame), "\(alert)")
        #expect(snapshot.map { $0.starts(with: [0xFF, 0xD8]) } == true)
        let event = UnitEvent.rule(alert, snapshot: snapshot).uplinkEvent
        #expect(event.kind == "intrusion" && event.priority == Priority.alert && event.snapshot != nil)
    }

    @Test("disarmed, the unit raises no rule alert (nor motion)")
    func disarmed() throws {
        let (report, notices) = try Self.run(Self.configuration, frames: 60, armed: false)
        #expect(Self.alerts(notices).isEmpty && report.alerts == 0)
        #expect(!notices.contains { if case .motionStarted = $0 { true } else { false } })
    }

    @Test("rule zones added by a reload apply live, from the next frame on")
    func reload() throws {
        // Without rule zones; at the first motion (the first walker) the reload adds the pavement.
        let reloaded = Atomic<Bool>(false)
        let (_, notices) = try Self.run(Configuration(), frames: 130) { notice, service in
            guard case .motionStarted = notice, !reloaded.exchange(true, ordering: .relaxed) else { return }
            service.reload(Self.configuration)
        }
        let didReload = reloaded.load(ordering: .relaxed)
        #expect(didReload)
        let alerts = Self.alerts(notices)
        // The first walker's alert or the second's (frame 100 on), raised by the reloaded zone.
        #expect(!alerts.isEmpty && alerts.allSatisfy { $0.0.kind == .intrusion && $0.0.zone == "pavement" })
    }
}
