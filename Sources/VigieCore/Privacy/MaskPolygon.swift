/// A named polygon in normalised coordinates: a privacy mask or a detection zone.
///
/// Construct it with `init(name:points:)`, which validates: 3 to `maximumPoints` finite points,
/// inside 0…1, a non-zero area, and no edge crossing another (a self-intersecting outline
/// is ambiguous about what it hides, so it is refused rather than guessed).
public struct MaskPolygon: Sendable, Hashable {
    /// More points than this are refused: masks are drawn by hand, and rasterisation is O(rows × points).
    public static let maximumPoints = 256

    public let name: String
    public let points: [NormalizedPoint]

    public init(name: String, points: [NormalizedPoint]) throws(PolygonError) {
        try Self.validate(points)
        self.name = name
        self.points = points
    }

    /// Checks `points` as `init` does.
    public static func validate(_ points: [NormalizedPoint]) throws(PolygonError) {
        guard points.count >= 3 else { throw .tooFewPoints(points.count) }
        guard points.count <= maximumPoints else { throw .tooManyPoints(points.count, limit: maximumPoints) }
        for (index, point) in points.enumerated() {
            guard point.x.isFinite, point.y.isFinite else { throw .notFinite(index: index) }
            guard (0...1).contains(point.x), (0...1).contains(point.y) else {
                throw .outOfRange(index: index, x: point.x, y: point.y)
            }
        }
        // Points on one line would otherwise be reported as folding back on themselves.
        if points.allSatisfy({ cross(points[0], points[1], $0) == 0 }) && points[0] != points[1] { throw .zeroArea }
        let count = points.count
        for first in 0..<count {
            for second in (first + 1)..<count {
                // Neighbouring edges share a vertex; they only conflict if they fold back on each other.
                let adjacent = second == first + 1 || (first == 0 && second == count - 1)
                let a = (points[first], points[(first + 1) % count])
                let b = (points[second], points[(second + 1) % count])
                if adjacent {
                    if foldsBack(a, b) { throw .selfIntersecting(edge: first, otherEdge: second) }
                } else if segmentsIntersect(a.0, a.1, b.0, b.1) {
                    throw .selfIntersecting(edge: first, otherEdge: second)
                }
            }
        }
        guard abs(signedArea(points)) > 1e-9 else { throw .zeroArea }
    }

    /// Shoelace area in normalised units (positive when counter-clockwise in y-down coordinates).
    static func signedArea(_ points: [NormalizedPoint]) -> Double {
        var sum = 0.0
        for index in points.indices {
            let p = points[index]
            let q = points[(index + 1) % points.count]
            sum += p.x * q.y - q.x * p.y
        }
        return sum / 2
    }

    private static func cross(_ o: NormalizedPoint, _ a: NormalizedPoint, _ b: NormalizedPoint) -> Double {
        (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
    }

    private static func onSegment(_ p: NormalizedPoint, _ a: NormalizedPoint, _ b: NormalizedPoint) -> Bool {
        min(a.x, b.x) <= p.x && p.x <= max(a.x, b.x) && min(a.y, b.y) <= p.y && p.y <= max(a.y, b.y)
    }

    static func segmentsIntersect(
        _ p1: NormalizedPoint, _ p2: NormalizedPoint, _ q1: NormalizedPoint, _ q2: NormalizedPoint
    ) -> Bool {
        let d1 = cross(q1, q2, p1)
        let d2 = cross(q1, q2, p2)
        let d3 = cross(p1, p2, q1)
        let d4 = cross(p1, p2, q2)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
        if d1 == 0 && onSegment(p1, q1, q2) { return true }
        if d2 == 0 && onSegment(p2, q1, q2) { return true }
        if d3 == 0 && onSegment(q1, p1, p2) { return true }
        if d4 == 0 && onSegment(q2, p1, p2) { return true }
        return false
    }

    /// Two edges sharing a vertex overlap along a line (a spike that doubles back).
    private static func foldsBack(
        _ a: (NormalizedPoint, NormalizedPoint), _ b: (NormalizedPoint, NormalizedPoint)
    ) -> Bool {
        let shared: NormalizedPoint
        let endA: NormalizedPoint
        let endB: NormalizedPoint
        if a.1 == b.0 {
            (shared, endA, endB) = (a.1, a.0, b.1)
        } else if b.1 == a.0 {
            (shared, endA, endB) = (a.0, a.1, b.0)
        } else {
            return segmentsIntersect(a.0, a.1, b.0, b.1)
        }
        if endA == shared || endB == shared { return true }  // a repeated vertex: a zero-length edge
        guard cross(shared, endA, endB) == 0 else { return false }
        // Collinear: they overlap when both ends lie on the same side of the shared vertex.
        let dot = (endA.x - shared.x) * (endB.x - shared.x) + (endA.y - shared.y) * (endB.y - shared.y)
        return dot > 0
    }
}

/// Why a polygon was refused. Indices are 0-based positions in the `points` list.
public enum PolygonError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooFewPoints(Int)
    case tooManyPoints(Int, limit: Int)
    case notFinite(index: Int)
    case outOfRange(index: Int, x: Double, y: Double)
    case zeroArea
    case selfIntersecting(edge: Int, otherEdge: Int)

    public var description: String {
        switch self {
        case .tooFewPoints(let count): "a polygon needs at least 3 points, got \(count)"
        case .tooManyPoints(let count, let limit): "\(count) points is more than the limit of \(limit)"
        case .notFinite(let index): "point \(index + 1) is not a finite number"
        case .outOfRange(let index, let x, let y):
            "point \(index + 1) (\(x), \(y)) is outside the image: coordinates are fractions from 0 to 1"
        case .zeroArea: "the polygon has no area (its points are on one line)"
        case .selfIntersecting(let edge, let otherEdge):
            "the outline crosses itself (edge \(edge + 1) meets edge \(otherEdge + 1))"
        }
    }
}
