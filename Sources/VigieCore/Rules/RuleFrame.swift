/// What the motion detector found in one frame, as every rule reads it.
///
/// `changed` is lent for the duration of one `update` call only (it is the detector's own buffer): a rule that
/// needs it later copies what it needs.
public struct RuleFrame {
    /// The frame's sequence number and time (seconds from the start of the stream).
    public var frame: Int
    public var time: Double
    /// Local wall-clock time of the frame for schedules; `nil` when nobody gave one (every zone armed).
    public var localTime: LocalTime?
    /// The detector's regions, largest first (none on a frame taken as a light change).
    public var boxes: [MotionBox]
    /// Per grid cell (row-major, `columns × rows`): 1 where the cell changed this frame, else 0.
    public var changed: UnsafeBufferPointer<UInt8>
    public var columns: Int
    public var rows: Int
    /// The share of the image the detector watches (not masked, inside a motion zone or all of it), 0…1.
    public var watchedArea: Double
    /// A grid cell's size as a fraction of the image's width and height (cells are square in pixels).
    public var cellWidth: Double
    public var cellHeight: Double
    /// Per grid cell: how often its changed flag flipped lately (0 … 1 per frame, a moving average over about
    /// 20 frames). Foliage, water and flags flicker; a person passing flips a cell twice. Filled by the
    /// `RuleEngine` (empty before).
    public var flicker: UnsafeBufferPointer<Float> = UnsafeBufferPointer(start: nil, count: 0)

    public init(
        frame: Int, time: Double, localTime: LocalTime?, boxes: [MotionBox], changed: UnsafeBufferPointer<UInt8>,
        columns: Int, rows: Int, watchedArea: Double, cellWidth: Double, cellHeight: Double
    ) {
        self.frame = frame
        self.time = time
        self.localTime = localTime
        self.boxes = boxes
        self.changed = changed
        self.columns = columns
        self.rows = rows
        self.watchedArea = watchedArea
        self.cellWidth = cellWidth
        self.cellHeight = cellHeight
    }

    /// The mean `flicker` of the changed cells under `rect` (0 when none changed, or no flicker map).
    public func flicker(in rect: NormalizedRect) -> Double {
        guard flicker.count >= columns * rows, changed.count >= columns * rows else { return 0 }
        let x0 = max(0, min(columns, Int((rect.x / cellWidth).rounded())))
        let x1 = max(x0, min(columns, Int(((rect.x + rect.width) / cellWidth).rounded())))
        let y0 = max(0, min(rows, Int((rect.y / cellHeight).rounded())))
        let y1 = max(y0, min(rows, Int(((rect.y + rect.height) / cellHeight).rounded())))
        var total: Float = 0
        var count = 0
        for y in y0..<y1 {
            for x in x0..<x1 where changed[y * columns + x] != 0 {
                total += flicker[y * columns + x]
                count += 1
            }
        }
        return count > 0 ? Double(total) / Double(count) : 0
    }
}

/// One source of alerts that the `RuleEngine` runs after motion detection on every armed frame: the zone rules,
/// the crowd rule, and any later rule (region tracking, lines, abandoned objects) added with `RuleEngine.add`.
///
/// A source is pure: it sees only what it is given, keeps its own state, and never reads a clock.
public protocol RuleSource: AnyObject {
    /// Feeds one frame; returns the alerts this frame decided (usually none).
    func update(_ frame: RuleFrame) -> [RuleAlert]
    /// Forgets every situation in progress (disarmed, camera reconnected): the next frames start afresh.
    func reset()
    /// Appends the ends of raised situations decided since the last call (by `update` or `reset`) to `ends`, and
    /// forgets them. Only the rules whose situations last (zones' dwell, crowd) have any; the default has none.
    func collectEnds(into ends: inout [RuleEnd])
}

extension RuleSource {
    public func collectEnds(into ends: inout [RuleEnd]) {}
}

extension RuleAlert {
    /// 0.5 at `measured == threshold`, rising linearly to 1 at `full` (and beyond).
    static func confidence(_ measured: Double, threshold: Double, full: Double) -> Double {
        guard full > threshold else { return 1 }
        return 0.5 + 0.5 * min(1, max(0, (measured - threshold) / (full - threshold)))
    }
}
