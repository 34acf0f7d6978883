/// A line across the image (`[[line]]`) whose crossing by a tracked region's foot point raises a `line_crossing`,
/// or a `wrong_way` when it goes against `direction`.
///
/// **Which way is which.** A crossing moves the foot point from one side of the line to the other; its direction
/// is the way the line's normal points towards the side it arrives on, in the image (x to the right, y down, in
/// pixels, so the frame's aspect counts). `left_to_right` means that normal points right (its x is positive),
/// whatever the line's slant: on a line from the top left to the bottom right, walking from its lower left side to
/// its upper right side is left to right. `top_to_bottom` means the normal points down. A line must therefore not
/// lie along the axis of its direction (a horizontal line cannot be crossed left to right; the configuration
/// refuses a line within about 11° of it). With `any`, every crossing is a `line_crossing`, reported with the
/// direction of the normal's larger component.
public struct LineRule: Sendable, Hashable {
    public var name: String
    /// Ends of the segment, fractions of the image; a crossing counts only between them.
    public var from: NormalizedPoint
    public var to: NormalizedPoint
    /// The allowed way across; crossings the other way are `wrong_way`.
    public var direction: LineDirection
    /// What the speaker says or plays on a `wrong_way` (on every crossing with `any`); `nil`: nothing.
    public var warning: RuleWarning?

    public init(name: String, from: NormalizedPoint, to: NormalizedPoint, direction: LineDirection = .any) {
        self.name = name
        self.from = from
        self.to = to
        self.direction = direction
    }

    /// Distance, in image heights, a foot point must reach on the far side of the line before a crossing counts,
    /// and on its own side before it is taken to be there: the band between is hysteresis, so a foot standing on the
    /// line, jittering by a cell of the detection grid, never crosses it.
    public static let margin = 0.02

    /// The least sine of the angle between a line and its direction's axis (about 11°).
    static let leastSlant = 0.2

    /// The unit vector of a direction in image axes (y down); zero for `any`.
    static func axis(_ direction: LineDirection) -> (x: Double, y: Double) {
        switch direction {
        case .any: (0, 0)
        case .leftToRight: (1, 0)
        case .rightToLeft: (-1, 0)
        case .topToBottom: (0, 1)
        case .bottomToTop: (0, -1)
        }
    }

    static func opposite(_ direction: LineDirection) -> LineDirection {
        switch direction {
        case .any: .any
        case .leftToRight: .rightToLeft
        case .rightToLeft: .leftToRight
        case .topToBottom: .bottomToTop
        case .bottomToTop: .topToBottom
        }
    }

    /// Whether the line can be crossed in its direction, judged in fractions of the image: it must be long enough
    /// (a hundredth of the image) and, unless `direction` is `any`, not lie along the direction's axis.
    public var problem: String? {
        let dx = to.x - from.x
        let dy = to.y - from.y
        let length = (dx * dx + dy * dy).squareRoot()
        guard length >= 0.01 else { return "from and to are too close (the line needs a length)" }
        guard direction != .any else { return nil }
        let axis = Self.axis(direction)
        // The normal (−dy, dx) against the axis.
        let across = abs(-dy * axis.x + dx * axis.y) / length
        guard across >= Self.leastSlant else {
            return "a line along the \(axis.x != 0 ? "horizontal" : "vertical") cannot be crossed "
                + "\(direction.rawValue); use a direction across it"
        }
        return nil
    }
}

/// Watches tracks against lines: one alert per crossing of a confirmed track's foot point, within the segment.
///
/// Per track and line it keeps the side the foot point was last seen on clearly (beyond `LineRule.margin`) and the
/// point it was at; a crossing is the foot point reaching the other side clearly, and it counts when the path
/// between those two points cuts the segment. The side is then the new one, so the same crossing is never
/// reported twice and jitter in the band around the line reports nothing. Allocates nothing per frame but the
/// alerts it raises.
final class LineCrossingDetector {
    let lines: [LineRule]
    /// Width over height of the frames, so distances and directions are those of the picture.
    private let aspect: Double
    private let capacity: Int
    /// Per slot and line: the side (−1, 0 unknown, +1) and the point it was established at (scaled x, y).
    private var side: [Int8]
    private var anchor: [Double]
    /// Per slot: the track id the state belongs to.
    private var owner: [Int]

    init(lines: [LineRule], aspect: Double, capacity: Int) {
        self.lines = lines
        self.aspect = aspect
        self.capacity = capacity
        side = [Int8](repeating: 0, count: capacity * lines.count)
        anchor = [Double](repeating: 0, count: capacity * lines.count * 2)
        owner = [Int](repeating: 0, count: capacity)
    }

    func reset() {
        for slot in 0..<capacity { owner[slot] = 0 }
    }

    func update(tracker: RegionTracker, frame: Int, time: Double, into alerts: inout [RuleAlert]) {
        guard !lines.isEmpty else { return }
        let lineCount = lines.count
        for index in tracker.tracks.indices {
            let track = tracker.tracks[index]
            guard track.missed == 0 else { continue }
            let slot = tracker.slot(ofTrackAt: index)
            if owner[slot] != track.id {
                owner[slot] = track.id
                for l in 0..<lineCount { side[slot * lineCount + l] = 0 }
            }
            let foot = track.foot
            let px = foot.x * aspect
            let py = foot.y
            for (l, line) in lines.enumerated() {
                let ax = line.from.x * aspect
                let ay = line.from.y
                let ux = line.to.x * aspect - ax
                let uy = line.to.y - ay
                let length = (ux * ux + uy * uy).squareRoot()
                let distance = (ux * (py - ay) - uy * (px - ax)) / length
                guard abs(distance) > LineRule.margin else { continue }
                let state = slot * lineCount + l
                let now: Int8 = distance > 0 ? 1 : -1
                let before = side[state]
                let fromX = anchor[state * 2]
                let fromY = anchor[state * 2 + 1]
                side[state] = now
                anchor[state * 2] = px
                anchor[state * 2 + 1] = py
                guard before != 0, before != now, tracker.isConfirmed(track) else { continue }
                // Where the path from the last clear point to this one meets the line, along the segment (0…1).
                let vx = px - fromX
                let vy = py - fromY
                let t = ((fromX - ax) * vy - (fromY - ay) * vx) / (ux * vy - uy * vx)
                guard t >= 0, t <= 1 else { continue }
                alerts.append(
                    alert(
                        line, normalX: -uy / length * Double(now), normalY: ux / length * Double(now), track: track,
                        clearance: min(abs(distance), abs(fromDistance(line, fromX, fromY))), frame: frame,
                        time: time))
            }
        }
    }

    private func fromDistance(_ line: LineRule, _ x: Double, _ y: Double) -> Double {
        let ax = line.from.x * aspect
        let ux = line.to.x * aspect - ax
        let uy = line.to.y - line.from.y
        return (ux * (y - line.from.y) - uy * (x - ax)) / (ux * ux + uy * uy).squareRoot()
    }

    /// The alert for a crossing whose motion across the line is along the unit normal (`normalX`, `normalY`).
    private func alert(
        _ line: LineRule, normalX: Double, normalY: Double, track: TrackedRegion, clearance: Double, frame: Int,
        time: Double
    ) -> RuleAlert {
        let kind: RuleAlert.Kind
        let direction: LineDirection
        if line.direction == .any {
            kind = .lineCrossing
            direction =
                abs(normalX) >= abs(normalY)
                ? (normalX > 0 ? .leftToRight : .rightToLeft) : (normalY > 0 ? .topToBottom : .bottomToTop)
        } else {
            let axis = LineRule.axis(line.direction)
            let along = normalX * axis.x + normalY * axis.y
            kind = along > 0 ? .lineCrossing : .wrongWay
            direction = along > 0 ? line.direction : LineRule.opposite(line.direction)
        }
        // 0.5 with both points just past the margin, 1 with both three margins further or more.
        let confidence = 0.5 + 0.5 * min(1, max(0, (clearance - LineRule.margin) / (3 * LineRule.margin)))
        return RuleAlert(
            kind: kind, rule: line.name, line: line.name, direction: direction, boxes: [track.rect],
            confidence: confidence, startFrame: frame, startTime: time, frame: frame, time: time)
    }
}
