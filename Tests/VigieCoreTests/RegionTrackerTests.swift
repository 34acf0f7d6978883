import Testing
import VigieCore

/// The tracker on boxes with known motion: ids must follow the things, not the frames.
@Suite("Region tracker")
struct RegionTrackerTests {
    static func box(_ x: Double, _ y: Double, _ width: Double = 0.08, _ height: Double = 0.25) -> MotionBox {
        MotionBox(zone: 0, rect: NormalizedRect(x: x, y: y, width: width, height: height), area: width * height / 2)
    }

    @Test func aWalkerKeepsItsIdThroughAGapOfTwoFrames() {
        let tracker = RegionTracker()
        var ids: Set<Int> = []
        for frame in 0..<40 {
            // Missing on frames 15 and 16 (a low-contrast patch).
            let boxes = frame == 15 || frame == 16 ? [] : [Self.box(0.1 + 0.015 * Double(frame), 0.5)]
            tracker.update(boxes: boxes, frame: frame, time: Double(frame) / 10)
            ids.formUnion(tracker.tracks.map(\.id))
        }
        #expect(ids.count == 1)
        let track = tracker.tracks[0]
        #expect(track.hits == 38)
        #expect(tracker.isConfirmed(track))
        #expect(abs(track.velocityX - 0.015) < 0.002)
        // The history holds the last foot points, oldest first, one per frame seen.
        let history = tracker.history(ofTrackAt: 0)
        #expect(history.count == tracker.historyLength)
        #expect(history.last == track.foot)
        #expect(zip(history, history.dropFirst()).allSatisfy { $0.x < $1.x })
    }

    @Test func aTrackMissingTooLongIsDroppedAndANewOneGetsANewId() {
        let tracker = RegionTracker(maximumMissed: 3)
        for frame in 0..<10 { tracker.update(boxes: [Self.box(0.3, 0.5)], frame: frame, time: 0) }
        let first = tracker.tracks[0].id
        for frame in 10..<14 { tracker.update(boxes: [], frame: frame, time: 0) }
        #expect(tracker.tracks.isEmpty)
        tracker.update(boxes: [Self.box(0.3, 0.5)], frame: 14, time: 0)
        #expect(tracker.tracks.count == 1)
        #expect(tracker.tracks[0].id != first)
        #expect(!tracker.isConfirmed(tracker.tracks[0]))
    }

    @Test func aBodySplitInTwoStaysOneTrack() {
        let tracker = RegionTracker()
        for frame in 0..<30 {
            let x = 0.1 + 0.01 * Double(frame)
            // Every third frame the detector splits the walker into its upper and lower halves.
            let boxes =
                frame % 3 == 2
                ? [Self.box(x, 0.5, 0.08, 0.13), Self.box(x, 0.63, 0.08, 0.12)] : [Self.box(x, 0.5)]
            tracker.update(boxes: boxes, frame: frame, time: 0)
            #expect(tracker.tracks.count == 1, "frame \(frame)")
            // The foot stays at the bottom of the whole body.
            #expect(abs((tracker.tracks.first?.foot.y ?? 0) - 0.75) < 1e-9, "frame \(frame)")
        }
    }

    @Test func twoWalkersCrossingKeepTheirIds() {
        let tracker = RegionTracker()
        var leftID = 0
        var rightID = 0
        for frame in 0..<60 {
            let a = 0.1 + 0.012 * Double(frame)
            let b = 0.82 - 0.012 * Double(frame)
            var boxes: [MotionBox]
            if abs(a - b) < 0.08 {
                // Overlapping: the detector sees one region over both.
                boxes = [Self.box(min(a, b), 0.5, abs(a - b) + 0.08, 0.25)]
            } else {
                boxes = [Self.box(a, 0.5), Self.box(b, 0.5)]
            }
            tracker.update(boxes: boxes, frame: frame, time: 0)
            if frame == 5 {
                leftID = tracker.tracks.min { $0.rect.x < $1.rect.x }!.id
                rightID = tracker.tracks.max { $0.rect.x < $1.rect.x }!.id
            }
        }
        // After they part, the one now on the right is the one that came from the left.
        #expect(tracker.tracks.count == 2)
        #expect(tracker.tracks.max { $0.rect.x < $1.rect.x }?.id == leftID)
        #expect(tracker.tracks.min { $0.rect.x < $1.rect.x }?.id == rightID)
    }

    @Test func farApartRegionsAreSeparateTracks() {
        let tracker = RegionTracker()
        tracker.update(boxes: [Self.box(0.1, 0.5)], frame: 0, time: 0)
        tracker.update(boxes: [Self.box(0.6, 0.5)], frame: 1, time: 0.1)
        #expect(tracker.tracks.count == 2)
        #expect(Set(tracker.tracks.map(\.id)).count == 2)
        #expect(tracker.tracks.contains { $0.missed == 1 })
    }
}
