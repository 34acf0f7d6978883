/// A point in normalised image coordinates: (0, 0) is the top-left corner of the image,
/// (1, 1) the bottom-right, whatever the resolution.
public struct NormalizedPoint: Sendable, Hashable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned rectangle in normalised image coordinates (0…1).
public struct NormalizedRect: Sendable, Hashable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// Area as a fraction of the image.
    public var area: Double { width * height }

    /// The overlapping part, or `nil` when the rectangles do not overlap.
    public func intersection(_ other: NormalizedRect) -> NormalizedRect? {
        let left = max(x, other.x)
        let top = max(y, other.y)
        let right = min(x + width, other.x + other.width)
        let bottom = min(y + height, other.y + other.height)
        guard right > left, bottom > top else { return nil }
        return NormalizedRect(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// Intersection over union, 0 (disjoint) to 1 (identical).
    public func iou(_ other: NormalizedRect) -> Double {
        guard let overlap = intersection(other) else { return 0 }
        return overlap.area / (area + other.area - overlap.area)
    }
}
