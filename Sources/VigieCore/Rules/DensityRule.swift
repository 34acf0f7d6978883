/// `density_high`: the share of a `density` zone covered by moving cells stays above the zone's `highOccupancy`
/// for its `dwell` seconds while its schedule arms it: one alert, then nothing until the share has stayed below
/// the threshold for `rearm` seconds. That (or the zone disarmed) ends the situation: its end, the last frame above
/// the threshold, is given to `collectEnds(into:)` for review, not raised.
///
/// A moving cell is a changed grid cell with at least one changed neighbour (the detector's own rule against
/// sensor noise); the share is over the zone's cells that the detector watches (masked cells do not count).
public final class DensityRule: RuleSource {
    public let zone: Zone
    /// Seconds below the threshold that a dwell in progress survives.
    public let gap: Double
    /// Seconds below the threshold after an alert before the zone can raise another.
    public let rearm: Double
    /// The zone's watched cells (grid indices).
    private let cells: [Int32]
    private let columns: Int
    private let rows: Int

    private var dwell: Dwell

    /// The share measured on the last frame (0…1), for tests and telemetry.
    public private(set) var occupancy = 0.0

    /// - Parameter watched: whether the detector watches a grid cell (not masked, in a motion zone or all of it).
    public init(
        zone: Zone, columns: Int, rows: Int, watched: (Int) -> Bool, gap: Double = 0.6, rearm: Double = 10
    ) {
        self.zone = zone
        self.columns = columns
        self.rows = rows
        self.gap = gap
        self.rearm = rearm
        self.dwell = Dwell(dwell: zone.dwell, gap: gap, rearm: rearm)
        var cells: [Int32] = []
        for y in 0..<rows {
            for x in 0..<columns {
                let centre = NormalizedPoint(
                    x: (Double(x) + 0.5) / Double(columns), y: (Double(y) + 0.5) / Double(rows))
                let index = y * columns + x
                if watched(index) && zone.contains(centre) { cells.append(Int32(index)) }
            }
        }
        self.cells = cells
    }

    public func reset() {
        dwell.reset()
        occupancy = 0
    }

    public func collectEnds(into ends: inout [RuleEnd]) {
        dwell.collectEnd(kind: .densityHigh, rule: zone.name, into: &ends)
    }

    public func update(_ frame: RuleFrame) -> [RuleAlert] {
        guard zone.schedule.isArmed(at: frame.localTime) else {
            dwell.reset()
            return []
        }
        occupancy = measure(frame.changed)
        guard
            let raised = dwell.update(
                holds: occupancy > zone.highOccupancy, measure: occupancy, frame: frame.frame, time: frame.time)
        else { return [] }
        return [
            RuleAlert(
                kind: .densityHigh, rule: zone.name, zone: zone.name, boxes: boxes(frame),
                confidence: RuleAlert.confidence(
                    raised.peak, threshold: zone.highOccupancy, full: min(1, 2 * zone.highOccupancy)),
                startFrame: raised.startFrame, startTime: raised.startTime, frame: frame.frame, time: frame.time)
        ]
    }

    private func measure(_ changed: UnsafeBufferPointer<UInt8>) -> Double {
        guard !cells.isEmpty, changed.count >= columns * rows else { return 0 }
        var moving = 0
        for cell in cells {
            let index = Int(cell)
            guard changed[index] != 0 else { continue }
            let x = index % columns
            let y = index / columns
            var neighbour = false
            for ny in max(0, y - 1)...min(rows - 1, y + 1) where !neighbour {
                for nx in max(0, x - 1)...min(columns - 1, x + 1) where (nx != x || ny != y) {
                    if changed[ny * columns + nx] != 0 {
                        neighbour = true
                        break
                    }
                }
            }
            if neighbour { moving += 1 }
        }
        return Double(moving) / Double(cells.count)
    }

    /// The frame's regions whose foot point is in the zone, or the zone's outline when there are none.
    private func boxes(_ frame: RuleFrame) -> [NormalizedRect] {
        let inside = frame.boxes.map(\.rect).filter {
            zone.contains(NormalizedPoint(x: $0.x + $0.width / 2, y: $0.y + $0.height))
        }
        if !inside.isEmpty { return inside }
        guard let points = zone.polygon?.points, let first = points.first else {
            return [NormalizedRect(x: 0, y: 0, width: 1, height: 1)]
        }
        var (minX, minY, maxX, maxY) = (first.x, first.y, first.x, first.y)
        for point in points {
            minX = min(minX, point.x)
            minY = min(minY, point.y)
            maxX = max(maxX, point.x)
            maxY = max(maxY, point.y)
        }
        return [NormalizedRect(x: minX, y: minY, width: maxX - minX, height: maxY - minY)]
    }
}
