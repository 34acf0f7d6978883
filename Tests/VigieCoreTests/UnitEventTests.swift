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
            (
                .callPoint(.callButton(call: 1, press: .short), callID: nil, snapshot: true), "call_button",
                Priority.emergency
            ),
            (
                .callPoint(.callAnswered(call: 1, waited: 2), callID: "c", snapshot: false), "call_answered",
                Priority.alert
            ),
            (
                .callPoint(
                    .callEnded(call: 1, reason: .timeout, duration: 900, answered: false, presses: 2), callID: "c",
                    snapshot: false), "call_ended", Priority.alert
            ),
            (.callPoint(.buttonStuck(held: 30), callID: nil, snapshot: false), "button_stuck", Priority.fault),
            (.callPoint(.buttonReleased(held: 31), callID: nil, snapshot: false), "button_released", Priority.fault),
            (.callPoint(.cabinetOpened, callID: nil, snapshot: false), "cabinet_opened", Priority.alert),
            (.callPoint(.cabinetClosed, callID: nil, snapshot: false), "cabinet_closed", Priority.fault),
            (.gpioFault(reason: "EBUSY"), "gpio_fault", Priority.fault),
            (.gpioRestored, "gpio_restored", Priority.fault),
            (.selfTest(SelfTestReport(parts: [.init("camera")]), trigger: "schedule"), "selftest", Priority.routine),
            (
                .selfTest(
                    SelfTestReport(parts: [.init("camera"), .init("speaker", fault: "hw:9")]), trigger: "command"),
                "selftest", Priority.fault
            ),
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

    @Test func callPointDetails() {
        let call = UnitEvent.callPoint(.callButton(call: 1, press: .long), callID: nil, snapshot: false).uplinkEvent
        #expect(call.details.map { "\($0.key)=\($0.value)" } == ["press=long", "snapshot=unavailable"])
        let ended = UnitEvent.callPoint(
            .callEnded(call: 1, reason: .centre, duration: 61.234, answered: true, presses: 3), callID: "01ABC",
            snapshot: false
        ).uplinkEvent
        #expect(
            ended.details.map { "\($0.key)=\($0.value)" } == [
                "call=01ABC", "reason=centre", "duration_s=61.23", "answered=true", "presses=3",
            ])
        let test = UnitEvent.selfTest(
            SelfTestReport(parts: [.init("camera"), .init("speaker", fault: "hw:9 missing")]), trigger: "schedule"
        ).uplinkEvent
        #expect(
            test.details.map { "\($0.key)=\($0.value)" } == [
                "verdict=fault", "trigger=schedule", "camera=ok", "speaker=fault: hw:9 missing",
            ])
    }

    @Test func anEventsIDIsReadBackFromItsPayload() {
        let event = UplinkEvent(kind: "call_button", priority: Priority.emergency)
        let payload = event.payload(
            id: "01M8PKR6017JWK72E80SV32PP5", sequence: 3, millis: 0, deviceID: "u", snapshotTopic: nil)
        #expect(UplinkEvent.id(of: payload) == "01M8PKR6017JWK72E80SV32PP5")
        #expect(UplinkEvent.id(of: UplinkEvent.markHistorical(payload)) == "01M8PKR6017JWK72E80SV32PP5")
        #expect(UplinkEvent.id(of: Array("{\"kind\":\"x\"}".utf8)) == nil)
    }
}
