/// Horizontal runs of covered pixels, row by row: the rasterised form of one or more polygons.
///
/// Row `y` covers the half-open pixel ranges `spans[2k] ..< spans[2k+1]` for `k` in
/// `rowStart[y] ..< rowStart[y+1]`, sorted, merged and clipped to the width.
public struct SpanTable: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Index of each row's first span; `height + 1` entries.
    public let rowStart: [Int32]
    /// Pairs of (start, end) pixel columns.
    public let spans: [Int32]

    /// How polygons are turned into pixels.
    public enum Coverage: Sendable {
        /// Every pixel the polygon touches, even partly (masks: never leak an edge).
        case conservative
        /// Pixels whose centre is inside (zones).
        case centre
    }

    /// Rasterises `polygons` (normalised) at `width` × `height`, as their union.
    public init(polygons: [[NormalizedPoint]], width: Int, height: Int, coverage: Coverage) {
        var rowStart: [Int32] = [0]
        var spans: [Int32] = []
        rowStart.reserveCapacity(height + 1)
        let scaled = polygons.map { $0.map { (x: $0.x * Double(width), y: $0.y * Double(height)) } }
        var intervals: [(Int, Int)] = []
        var crossings: [Double] = []
        for row in 0..<height {
            intervals.removeAll(keepingCapacity: true)
            let top = Double(row)
            let bottom = top + 1
            let centre = top + 0.5
            for polygon in scaled {
                // Interior: pixels whose centre lies inside (even-odd rule on the row's centre line).
                crossings.removeAll(keepingCapacity: true)
                for index in polygon.indices {
                    let a = polygon[index]
                    let b = polygon[(index + 1) % polygon.count]
                    if (a.y <= centre) != (b.y <= centre) {
                        crossings.append(a.x + (centre - a.y) * (b.x - a.x) / (b.y - a.y))
                    }
                }
                crossings.sort()
                var pair = 0
                while pair + 1 < crossings.count {
                    let first = Int((crossings[pair] - 0.5).rounded(.up))
                    let last = Int((crossings[pair + 1] - 0.5).rounded(.up))
                    if last > first { intervals.append((first, last)) }
                    pair += 2
                }
                guard coverage == .conservative else { continue }
                // Boundary: every pixel an edge passes through inside this row's band.
                for index in polygon.indices {
                    let a = polygon[index]
                    let b = polygon[(index + 1) % polygon.count]
                    let low = max(min(a.y, b.y), top)
                    let high = min(max(a.y, b.y), bottom)
                    if low > high { continue }
                    if low == high && (low == top || low == bottom) { continue }  // only touches the band's border
                    let xLow: Double
                    let xHigh: Double
                    if a.y == b.y {
                        (xLow, xHigh) = (min(a.x, b.x), max(a.x, b.x))
                    } else {
                        let x1 = a.x + (low - a.y) * (b.x - a.x) / (b.y - a.y)
                        let x2 = a.x + (high - a.y) * (b.x - a.x) / (b.y - a.y)
                        (xLow, xHigh) = (min(x1, x2), max(x1, x2))
                    }
                    if xLow == xHigh && xLow == xLow.rounded() { continue }  // lies on a pixel border
                    let first = Int(xLow.rounded(.down))
                    let last = max(first + 1, Int(xHigh.rounded(.up)))
                    intervals.append((first, last))
                }
            }
            Self.merge(&intervals, width: width, into: &spans)
            rowStart.append(Int32(spans.count / 2))
        }
        self.init(width: width, height: height, rowStart: rowStart, spans: spans)
    }

    init(width: Int, height: Int, rowStart: [Int32], spans: [Int32]) {
        self.width = width
        self.height = height
        self.rowStart = rowStart
        self.spans = spans
    }

    /// A table with nothing covered.
    public static func empty(width: Int, height: Int) -> SpanTable {
        SpanTable(width: width, height: height, rowStart: [Int32](repeating: 0, count: height + 1), spans: [])
    }

    /// True when no pixel is covered.
    public var isEmpty: Bool { spans.isEmpty }

    /// Number of covered pixels.
    public var coveredCount: Int {
        var total = 0
        var index = 0
        while index < spans.count {
            total += Int(spans[index + 1] - spans[index])
            index += 2
        }
        return total
    }

    /// Whether pixel (`x`, `y`) is covered. For tests and tools; hot paths walk the spans.
    public func covers(x: Int, y: Int) -> Bool {
        guard y >= 0, y < height else { return false }
        for k in Int(rowStart[y])..<Int(rowStart[y + 1]) where Int(spans[2 * k]) <= x && x < Int(spans[2 * k + 1]) {
            return true
        }
        return false
    }

    /// The table for a plane subsampled by `horizontal` × `vertical` (2 × 2 for 4:2:0 chroma): a sample is
    /// covered when any luma pixel it stands for is covered.
    public func subsampled(horizontal: Int, vertical: Int) -> SpanTable {
        let outWidth = (width + horizontal - 1) / horizontal
        let outHeight = (height + vertical - 1) / vertical
        var rowStart: [Int32] = [0]
        var spans: [Int32] = []
        var intervals: [(Int, Int)] = []
        for row in 0..<outHeight {
            intervals.removeAll(keepingCapacity: true)
            for source in (row * vertical)..<min(height, (row + 1) * vertical) {
                for k in Int(self.rowStart[source])..<Int(self.rowStart[source + 1]) {
                    let first = Int(self.spans[2 * k]) / horizontal
                    let last = (Int(self.spans[2 * k + 1]) + horizontal - 1) / horizontal
                    intervals.append((first, last))
                }
            }
            Self.merge(&intervals, width: outWidth, into: &spans)
            rowStart.append(Int32(spans.count / 2))
        }
        return SpanTable(width: outWidth, height: outHeight, rowStart: rowStart, spans: spans)
    }

    private static func merge(_ intervals: inout [(Int, Int)], width: Int, into spans: inout [Int32]) {
        guard !intervals.isEmpty else { return }
        intervals.sort { $0.0 < $1.0 }
        var current: (Int, Int)?
        for interval in intervals {
            let clipped = (max(0, interval.0), min(width, interval.1))
            guard clipped.1 > clipped.0 else { continue }
            if let open = current, clipped.0 <= open.1 {
                current = (open.0, max(open.1, clipped.1))
            } else {
                if let open = current { spans += [Int32(open.0), Int32(open.1)] }
                current = clipped
            }
        }
        if let open = current { spans += [Int32(open.0), Int32(open.1)] }
    }
}
