import Testing
import VigieCore

/// The unit's events: one place decides each one's kind, priority and details.
@Suite("Unit events")
struct UnitEventTests {
    @Test func kindsAndPriorities() {
        let motion = MotionEvent(
            zone: "gate", startFrame: 1, endFrame: 40, startTime: 1.0, endTime: 4.567, peakArea: 0.01234,
            boxes: [], framesWithMotion: 30)
        let cases: [(UnitEvent, String, Int)] = [
            (.motionStarted(zone: "gate", boxes: [], snapshot: nil), "motion", Priority.alert),
            (.motionEnded(motion), "motion_end", Priority.routine),
            (.camera(.lost, reason: "unplugged"), "camera_lost", Priority.fault),
            (.camera(.mismatch, reason: "16:9"), "camera_mismatch", Priority.fault),
            (.cameraIdentityNotSaved(reason: "read-only"), "storage_fault", Priority.fault),
            (.configChanged(masks: 2, zones: 1, restartNeeded: []), "config_changed", Priority.fault),
            (.configRefused(reason: "mask.points"), "config_refused", Priority.fault),
            (.test(index: 9), "test", Priority.alert),
            (.test(index: 10), "test", Priority.emergency),
        ]
        for (event, kind, priority) in cases {
            #expect(event.kind == kind)
            #expect(event.priority == priority, "\(kind)")
            #expect(event.uplinkEvent.kind == kind && event.uplinkEvent.priority == priority)
        }
        let ended = UnitEvent.motionEnded(motion).uplinkEvent
        #expect(ended.zone == "gate")
        #expect(ended.details.map(\.0) == ["duration_s", "peak_area"])
        #expect(ended.details.map(\.1) == ["3.57", "1.23%"])
    }

    @Test func whichCameraConditionsAreFaults() {
        let faults = CameraCondition.allCases.filter(\.isFault).map(\.rawValue)
        #expect(faults == ["camera_stalled", "camera_lost", "camera_mismatch"])
    }
}
