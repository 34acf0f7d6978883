/// How motion is detected. Defaults suit a fixed street camera at 5–30 frames per second.
public struct MotionSettings: Sendable, Hashable {
    /// 0 (only strong, large changes) … 1 (faint changes). Sets the grey-level threshold on cell averages:
    /// `3 + (1 - sensitivity) × 20`, so 0.5 → 13 levels.
    public var sensitivity: Double = 0.5
    /// Smallest moving area that counts, as a fraction of the image (0.001 = 0.1 %).
    public var minimumArea: Double = 0.001
    /// Frames in a row with motion before an event starts (1 reacts at once, more rejects blips).
    public var minimumFrames: Int = 2
    /// Frames in a row without motion before an event ends.
    public var endFrames: Int = 10
    /// Columns of the detection grid; the image is averaged in square cells to about this many across.
    public var gridColumns: Int = 160
    /// Fraction of the image changing at once that is taken as a light change (lights, IR switch), not motion.
    public var globalChangeFraction: Double = 0.5
    /// How fast the background follows the scene, per frame (0…1).
    public var learningRate: Double = 0.05

    public init() {}

    /// Grey-level threshold on a cell average for a given sensitivity.
    public static func threshold(sensitivity: Double) -> Float {
        Float(3 + (1 - min(1, max(0, sensitivity))) * 20)
    }
}

/// An area of the image with a purpose: where motion is looked for (`motion`), or where a rule watches the motion
/// found (`intrusion`, `density`).
public struct Zone: Sendable, Hashable {
    /// What a zone is for. Only `motion` zones limit where motion is detected; the others add a rule and limit
    /// nothing.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Motion inside is reported as motion events (all of the image when no motion zone is configured).
        case motion
        /// Motion of at least `minimumArea` with its foot point inside for `dwell` seconds raises `intrusion`.
        case intrusion
        /// Moving cells covering more than `highOccupancy` of the zone for `dwell` seconds raise `density_high`.
        case density
    }

    public var name: String
    /// Outline; `nil` means the whole image.
    public var polygon: MaskPolygon?
    public var sensitivity: Double
    /// For `motion` and `intrusion` zones, the smallest moving area that counts, as a fraction of the image.
    public var minimumArea: Double
    public var kind: Kind
    /// When an `intrusion` or `density` zone's rule is armed (local time); `.always` by default.
    public var schedule: ZoneSchedule
    /// Seconds the situation must last before an `intrusion` or `density` zone raises its alert.
    public var dwell: Double
    /// For a `density` zone, the share of the zone (0…1) that moving cells must cover.
    public var highOccupancy: Double
    /// For an `intrusion` or `density` zone, what the speaker says or plays when its alert is raised; `nil`: nothing.
    public var warning: RuleWarning?

    public init(
        name: String, polygon: MaskPolygon?, sensitivity: Double, minimumArea: Double, kind: Kind = .motion,
        schedule: ZoneSchedule = .always, dwell: Double = Zone.defaultDwell,
        highOccupancy: Double = Zone.defaultHighOccupancy
    ) {
        self.name = name
        self.polygon = polygon
        self.sensitivity = sensitivity
        self.minimumArea = minimumArea
        self.kind = kind
        self.schedule = schedule
        self.dwell = dwell
        self.highOccupancy = highOccupancy
    }

    /// `dwell` when the file sets none, seconds.
    public static let defaultDwell = 2.0
    /// `high_occupancy` when the file sets none.
    public static let defaultHighOccupancy = 0.3

    /// The whole image, with the global settings.
    public static func wholeImage(_ settings: MotionSettings) -> Zone {
        Zone(name: "image", polygon: nil, sensitivity: settings.sensitivity, minimumArea: settings.minimumArea)
    }

    /// Whether `point` lies inside the zone (always, for the whole image).
    public func contains(_ point: NormalizedPoint) -> Bool {
        guard let polygon else { return true }
        // Even-odd ray casting: zones are simple polygons (validated), so this is the inside.
        let points = polygon.points
        var inside = false
        var j = points.count - 1
        for i in points.indices {
            let a = points[i]
            let b = points[j]
            if (a.y > point.y) != (b.y > point.y) {
                let x = a.x + (point.y - a.y) / (b.y - a.y) * (b.x - a.x)
                if point.x < x { inside.toggle() }
            }
            j = i
        }
        return inside
    }
}

/// One moving region found in a frame.
public struct MotionBox: Sendable, Hashable {
    /// Index of the zone in the detector's `zones`.
    public var zone: Int
    /// Bounding box, normalised.
    public var rect: NormalizedRect
    /// Moving area as a fraction of the image (cells that changed, not the box).
    public var area: Double

    public init(zone: Int, rect: NormalizedRect, area: Double) {
        self.zone = zone
        self.rect = rect
        self.area = area
    }
}
