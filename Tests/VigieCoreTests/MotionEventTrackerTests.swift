import Testing
import VigieCore

@Suite("Motion event tracker")
struct MotionEventTrackerTests {
    static func box(_ zone: Int, area: Double) -> MotionBox {
        MotionBox(zone: zone, rect: NormalizedRect(x: 0.1, y: 0.1, width: area, height: 1), area: area)
    }

    @Test func eventNeedsMinimumFramesAndEndsAfterQuiet() {
        var tracker = MotionEventTracker(zoneNames: ["a"], minimumFrames: 3, endFrames: 2)
        var log: [(Int, MotionEventTracker.Update)] = []
        let pattern = [0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0]
        for (frame, moving) in pattern.enumerated() {
            let boxes = moving == 1 ? [Self.box(0, area: 0.01 * Double(frame))] : []
            for update in tracker.update(frame: frame, time: Double(frame) / 10, boxes: boxes) {
                log.append((frame, update))
            }
        }
        #expect(log.count == 2)
        guard log.count == 2, case .started(let zone, let frame, _, _) = log[0].1, case .ended(let event) = log[1].1
        else {
            Issue.record("unexpected updates \(log)")
            return
        }
        #expect(zone == "a")
        #expect(frame == 6)
        #expect(event.startFrame == 4)
        #expect(event.startTime == 0.4)
        #expect(event.endFrame == 9)
        #expect(event.framesWithMotion == 5)
        #expect(abs(event.peakArea - 0.09) < 1e-12)
        #expect(log[1].0 == 11)
    }

    @Test func zonesAreIndependent() {
        var tracker = MotionEventTracker(zoneNames: ["a", "b"], minimumFrames: 1, endFrames: 1)
        let first = tracker.update(frame: 0, time: 0, boxes: [Self.box(1, area: 0.1)])
        #expect(first == [.started(zone: "b", frame: 0, time: 0, boxes: [Self.box(1, area: 0.1).rect])])
        #expect(tracker.isActive)
        let finished = tracker.finish()
        #expect(finished.count == 1)
        #expect(!tracker.isActive)
    }
}
