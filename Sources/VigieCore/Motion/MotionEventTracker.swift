/// A motion event: a stretch of frames in which a zone kept moving.
public struct MotionEvent: Sendable, Hashable {
    /// Name of the zone.
    public var zone: String
    public var startFrame: Int
    /// Last frame with motion.
    public var endFrame: Int
    /// Seconds from the start of the stream.
    public var startTime: Double
    public var endTime: Double
    /// Largest moving area seen, as a fraction of the image.
    public var peakArea: Double
    /// The regions of the frame with the largest area.
    public var boxes: [NormalizedRect]
    /// Frames that had motion in this zone.
    public var framesWithMotion: Int

    public init(
        zone: String, startFrame: Int, endFrame: Int, startTime: Double, endTime: Double, peakArea: Double,
        boxes: [NormalizedRect], framesWithMotion: Int
    ) {
        self.zone = zone
        self.startFrame = startFrame
        self.endFrame = endFrame
        self.startTime = startTime
        self.endTime = endTime
        self.peakArea = peakArea
        self.boxes = boxes
        self.framesWithMotion = framesWithMotion
    }
}

/// Turns per-frame regions into events: an event starts after `minimumFrames` frames in a row with motion
/// in a zone and ends after `endFrames` frames without.
public struct MotionEventTracker: Sendable {
    /// What a frame changed.
    public enum Update: Sendable, Hashable {
        /// Motion confirmed in a zone: raise the alert now, without waiting for the end.
        case started(zone: String, frame: Int, time: Double, boxes: [NormalizedRect])
        case ended(MotionEvent)
    }

    private struct ZoneState: Sendable {
        var streak = 0
        var streakFrame = 0
        var streakTime = 0.0
        var quiet = 0
        var event: MotionEvent?
    }

    public let zoneNames: [String]
    public let minimumFrames: Int
    public let endFrames: Int
    private var states: [ZoneState]

    public init(zoneNames: [String], minimumFrames: Int, endFrames: Int) {
        self.zoneNames = zoneNames
        self.minimumFrames = max(1, minimumFrames)
        self.endFrames = max(1, endFrames)
        self.states = Array(repeating: ZoneState(), count: zoneNames.count)
    }

    /// Whether any zone has an event in progress.
    public var isActive: Bool { states.contains { $0.event != nil } }

    /// Feeds one frame's regions. Returns what started or ended (usually nothing).
    public mutating func update(frame: Int, time: Double, boxes: [MotionBox]) -> [Update] {
        var updates: [Update] = []
        for zone in states.indices {
            var area = 0.0
            var hasMotion = false
            for box in boxes where box.zone == zone {
                hasMotion = true
                area += box.area
            }
            var state = states[zone]
            if hasMotion {
                state.streak += 1
                state.quiet = 0
                if state.streak == 1 {
                    state.streakFrame = frame
                    state.streakTime = time
                }
                if var event = state.event {
                    event.endFrame = frame
                    event.endTime = time
                    event.framesWithMotion += 1
                    if area > event.peakArea {
                        event.peakArea = area
                        event.boxes = boxes.filter { $0.zone == zone }.map(\.rect)
                    }
                    state.event = event
                } else if state.streak >= minimumFrames {
                    let rects = boxes.filter { $0.zone == zone }.map(\.rect)
                    state.event = MotionEvent(
                        zone: zoneNames[zone], startFrame: state.streakFrame, endFrame: frame,
                        startTime: state.streakTime,
                        endTime: time, peakArea: area, boxes: rects, framesWithMotion: minimumFrames)
                    updates.append(.started(zone: zoneNames[zone], frame: frame, time: time, boxes: rects))
                }
            } else {
                state.streak = 0
                if let event = state.event {
                    state.quiet += 1
                    if state.quiet >= endFrames {
                        updates.append(.ended(event))
                        state.event = nil
                        state.quiet = 0
                    }
                }
            }
            states[zone] = state
        }
        return updates
    }

    /// Ends every event in progress (end of stream, shutdown).
    public mutating func finish() -> [Update] {
        var updates: [Update] = []
        for zone in states.indices {
            if let event = states[zone].event { updates.append(.ended(event)) }
            states[zone] = ZoneState()
        }
        return updates
    }
}
