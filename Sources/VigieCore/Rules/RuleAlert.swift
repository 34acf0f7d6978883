/// Which way a line may be crossed, in image terms: the foot point moves from one side of the line to the other.
public enum LineDirection: String, Sendable, Hashable, CaseIterable {
    /// Either way is allowed: every crossing is a `line_crossing`, never a `wrong_way`.
    case any
    case leftToRight = "left_to_right"
    case rightToLeft = "right_to_left"
    case topToBottom = "top_to_bottom"
    case bottomToTop = "bottom_to_top"
}

/// What a rule found: an alert for a human to look at, never a decision about a person. Every rule (zones, lines,
/// abandoned objects, density, crowd movement) reports through this one type, and `UnitEvent.rule` is the one way
/// it becomes an event.
public struct RuleAlert: Sendable, Hashable {
    /// The situation, named as the centre receives it.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Motion of at least the zone's size, foot point inside an armed `intrusion` zone, for its `dwell`.
        case intrusion
        /// A tracked region's foot point changed side of a line, within the segment.
        case lineCrossing = "line_crossing"
        /// As `lineCrossing`, against the line's allowed direction.
        case wrongWay = "wrong_way"
        /// Something appeared and stayed still longer than `[abandoned] seconds` where the background had nothing.
        case abandonedObject = "abandoned_object"
        /// The abandoned object is gone.
        case abandonedCleared = "abandoned_cleared"
        /// A `density` zone stayed covered by motion above its `high_occupancy` for its `dwell`.
        case densityHigh = "density_high"
        /// A sudden jump of the moving area across the frame.
        case crowdMovement = "crowd_movement"
    }

    public var kind: Kind
    /// The rule's name as configured: the zone's or the line's name, or `abandoned` / `crowd`.
    public var rule: String
    /// The zone it concerns, when it is a zone's rule (or the zone the object lies in).
    public var zone: String?
    /// The line it concerns, for `lineCrossing` and `wrongWay`.
    public var line: String?
    /// The direction of the crossing, for `lineCrossing` and `wrongWay` (never `.any`).
    public var direction: LineDirection?
    /// Where, normalised.
    public var boxes: [NormalizedRect]
    /// 0.5 (at the threshold) … 1 (far beyond it): how clearly the measurements say so.
    public var confidence: Double
    /// The frame and time (seconds from the start of the stream) the situation began: the start of the dwell, the
    /// first still frame of the object; the crossing frame for a crossing.
    public var startFrame: Int
    public var startTime: Double
    /// The frame and time the rule decided (raised, or cleared for `abandonedCleared`).
    public var frame: Int
    public var time: Double
    /// For `abandonedObject` and `abandonedCleared`: which of the objects reported at once it is (0 up to 15), the
    /// same on an object's alert and on its clearing, and free for another object once cleared; `nil` otherwise.
    /// It tells objects apart for pairing, nothing more (it is not sent to the centre).
    public var object: Int?

    public init(
        kind: Kind, rule: String, zone: String? = nil, line: String? = nil, direction: LineDirection? = nil,
        boxes: [NormalizedRect], confidence: Double, startFrame: Int, startTime: Double, frame: Int, time: Double,
        object: Int? = nil
    ) {
        self.kind = kind
        self.rule = rule
        self.zone = zone
        self.line = line
        self.direction = direction
        self.boxes = boxes
        self.confidence = confidence
        self.startFrame = startFrame
        self.startTime = startTime
        self.frame = frame
        self.time = time
        self.object = object
    }
}
