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

/// An area of the image where motion is looked for, with its own sensitivity and minimum size.
public struct Zone: Sendable, Hashable {
    public var name: String
    /// Outline; `nil` means the whole image.
    public var polygon: MaskPolygon?
    public var sensitivity: Double
    public var minimumArea: Double

    public init(name: String, polygon: MaskPolygon?, sensitivity: Double, minimumArea: Double) {
        self.name = name
        self.polygon = polygon
        self.sensitivity = sensitivity
        self.minimumArea = minimumArea
    }

    /// The whole image, with the global settings.
    public static func wholeImage(_ settings: MotionSettings) -> Zone {
        Zone(name: "image", polygon: nil, sensitivity: settings.sensitivity, minimumArea: settings.minimumArea)
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
