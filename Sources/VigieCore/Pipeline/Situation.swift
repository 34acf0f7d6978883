/// One situation found in a recording, from its start to its end: a motion event, a rule's alert, a tampering. What
/// `vigie analyze --events` writes, one a line; `SituationLog` assembles it from what the pipeline reports.
public struct Situation: Sendable, Hashable {
    /// How the situation ended.
    public enum Ending: Sendable, Hashable {
        /// A motion event: it ends after the tracker's `end_frames` quiet frames.
        case motion
        /// A crossing: one instant.
        case instant
        /// A zone's or the crowd rule's situation (`RuleEnd`): quiet for the re-arm time, or stopped.
        case rule(RuleEnd.Reason)
        /// An abandoned object taken away (`abandoned_cleared`).
        case gone
        /// A tampering cleared (`tamper_cleared`), and why.
        case cleared(TamperChange.Reason)
        /// A tampering that turned into another kind without a clearing: the next line begins where this one ends.
        case became(TamperState)
        /// Still in progress when the recording ended: it ends at the last frame read.
        case ongoing
    }

    /// `motion`, a rule's kind (`intrusion`, `abandoned_object` …) or a tampering (`tamper_covered` …).
    public var kind: String
    /// The rule's name, for a rule's alert.
    public var rule: String?
    public var zone: String?
    public var line: String?
    public var direction: LineDirection?
    /// The frame and time (seconds from the start of the stream) the situation began and ended, both included.
    public var startFrame: Int
    public var startTime: Double
    public var endFrame: Int
    public var endTime: Double
    /// The frame the unit raised its alert at (the end of the dwell, the tampering decided); `nil` for motion.
    public var alertFrame: Int?
    public var confidence: Double
    /// Where, normalised (none for a tampering: it concerns the whole view).
    public var boxes: [NormalizedRect]
    public var ending: Ending
    /// For a tampering: what was measured when it was decided.
    public var measurement: TamperMeasurement?
    /// For motion: the event, as the tracker ended it.
    public var motion: MotionEvent?

    /// Whether it was still in progress when the recording ended.
    public var isOngoing: Bool { ending == .ongoing }

    /// A motion event, which is an interval already; `ongoing` when the tracker ended it because the recording
    /// ended.
    public init(motion event: MotionEvent, ongoing: Bool = false) {
        kind = "motion"
        zone = event.zone
        startFrame = event.startFrame
        startTime = event.startTime
        endFrame = event.endFrame
        endTime = event.endTime
        confidence = 1
        boxes = event.boxes
        ending = ongoing ? .ongoing : .motion
        motion = event
    }

    /// A rule's alert, open until `ending` is set (a crossing is closed at once).
    public init(alert: RuleAlert) {
        kind = alert.kind.rawValue
        rule = alert.rule
        zone = alert.zone
        line = alert.line
        direction = alert.direction
        startFrame = alert.startFrame
        startTime = alert.startTime
        endFrame = alert.frame
        endTime = alert.time
        alertFrame = alert.frame
        confidence = alert.confidence
        boxes = alert.boxes
        ending = .instant
    }

    /// A tampering raised by `change` (whose `state` is set), open until `ending` is set: it starts where the change
    /// says it began (`[tamper] hold` before it was decided), else at the change.
    public init?(tampering change: TamperChange) {
        guard let state = change.state else { return nil }
        kind = state.kind
        startFrame = min(change.frame, change.startFrame ?? change.frame)
        startTime = min(change.time, change.startTime ?? change.time)
        endFrame = change.frame
        endTime = change.time
        alertFrame = change.frame
        confidence = change.confidence
        boxes = []
        ending = .ongoing
        measurement = change.measurement
    }

    /// Closes it at `frame`, `time`, for `ending`.
    mutating func end(frame: Int, time: Double, _ ending: Ending) {
        endFrame = max(startFrame, frame)
        endTime = max(startTime, time)
        self.ending = ending
    }
}

extension Situation {
    /// One JSON line as written by `vigie analyze --events`. A motion event is `MotionEvent.jsonLine`. Any other:
    /// `kind`, `rule`, `zone` / `line` / `direction` where they apply, `start_frame` and `end_frame` (the first and
    /// last frame of the situation), `start_time` and `end_time`, `alert_frame` (where the unit raised it),
    /// `confidence`, `boxes`, then how it ended: `cleared` (`quiet` or `stopped` for a zone or the crowd, `gone` for
    /// an object, the tamper clearing's reason), `became` for a tampering that turned into another, and `ongoing`
    /// (true when the recording ended first; `end_frame` is then the last frame read).
    public var jsonLine: String {
        if let motion { return motion.jsonLine(ongoing: isOngoing) }
        var json = JSONWriter()
        json.beginObject()
        json.string("kind", kind)
        if let rule { json.string("rule", rule) }
        if let zone { json.string("zone", zone) }
        if let line { json.string("line", line) }
        if let direction { json.string("direction", direction.rawValue) }
        json.integer("start_frame", startFrame)
        json.integer("end_frame", endFrame)
        json.number("start_time", startTime, decimals: 3)
        json.number("end_time", endTime, decimals: 3)
        if let alertFrame { json.integer("alert_frame", alertFrame) }
        json.number("confidence", confidence, decimals: 2)
        json.beginArray("boxes")
        for box in boxes { json.rect(nil, box) }
        json.endArray()
        switch ending {
        case .motion, .instant, .ongoing: break
        case .rule(let reason): json.string("cleared", reason.rawValue)
        case .gone: json.string("cleared", "gone")
        case .cleared(let reason): json.string("cleared", reason.rawValue)
        case .became(let state): json.string("became", state.rawValue)
        }
        if let measurement {
            json.number("contrast", measurement.contrast, decimals: 3)
            json.number("sharpness", measurement.sharpness, decimals: 3)
            json.number("correlation", measurement.correlation, decimals: 3)
            json.number("luma", measurement.luma, decimals: 1)
        }
        json.bool("ongoing", isOngoing)
        json.endObject()
        return json.text
    }
}
