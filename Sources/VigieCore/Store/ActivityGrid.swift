/// A set of the 256 cells of the 16×16 activity grid, as four 64-bit words (cell `row * 16 + column` is bit
/// `index % 64` of word `index / 64`): what the event store indexes to answer "did anything move here" in one
/// comparison per minute.
public struct ActivityCells: Sendable, Hashable {
    public var words: [UInt64]

    public init(words: [UInt64] = [0, 0, 0, 0]) {
        precondition(words.count == 4, "four words of 64 cells")
        self.words = words
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    public func contains(cell index: Int) -> Bool { words[index / 64] & (1 << UInt64(index % 64)) != 0 }

    public mutating func insert(cell index: Int) { words[index / 64] |= 1 << UInt64(index % 64) }

    public func intersects(_ other: ActivityCells) -> Bool {
        (0..<4).contains { words[$0] & other.words[$0] != 0 }
    }

    /// The cells a normalised rectangle overlaps (a degenerate one: the cell it lies in), clamped to the image.
    public init(covering rect: NormalizedRect) {
        self.init()
        let side = Double(ActivityGrid.side)
        func range(_ start: Double, _ length: Double) -> ClosedRange<Int> {
            let first = Int((max(0, min(1, start)) * side).rounded(.down))
            let end = Int((max(0, min(1, start + max(0, length))) * side).rounded(.up)) - 1
            let low = min(first, ActivityGrid.side - 1)
            return low...max(low, min(end, ActivityGrid.side - 1))
        }
        for row in range(rect.y, rect.height) {
            for column in range(rect.x, rect.width) { insert(cell: row * ActivityGrid.side + column) }
        }
    }
}

/// One minute of motion activity over the image: for each cell of a 16×16 grid, how many frames had a motion box
/// overlapping it (a frame counts once per cell whatever its boxes; saturates at 65,535). Built from the motion
/// detector's boxes, so it only ever sees masked pixels, and holds no picture.
public struct ActivityGrid: Sendable, Hashable {
    public static let side = 16
    public static let cellCount = side * side

    /// Row-major, `cellCount` counts.
    public private(set) var counts: [UInt16]

    public init() { counts = Array(repeating: 0, count: Self.cellCount) }

    /// A grid read back; `nil` unless there are exactly `cellCount` counts.
    public init?(counts: [UInt16]) {
        guard counts.count == Self.cellCount else { return nil }
        self.counts = counts
    }

    /// Counts one frame whose motion boxes are `boxes`.
    public mutating func add(frame boxes: some Sequence<NormalizedRect>) {
        var cells = ActivityCells()
        for box in boxes {
            let covered = ActivityCells(covering: box)
            for word in 0..<4 { cells.words[word] |= covered.words[word] }
        }
        guard !cells.isEmpty else { return }
        for index in 0..<Self.cellCount where cells.contains(cell: index) {
            if counts[index] < .max { counts[index] += 1 }
        }
    }

    /// Adds another grid's counts (two parts of one minute), saturating.
    public mutating func merge(_ other: ActivityGrid) {
        for index in 0..<Self.cellCount {
            let (sum, overflow) = counts[index].addingReportingOverflow(other.counts[index])
            counts[index] = overflow ? .max : sum
        }
    }

    public var isEmpty: Bool { counts.allSatisfy { $0 == 0 } }

    /// The cells with any motion.
    public var cells: ActivityCells {
        var cells = ActivityCells()
        for index in 0..<Self.cellCount where counts[index] > 0 { cells.insert(cell: index) }
        return cells
    }

    /// The most frames with motion in one cell of `area`.
    public func peak(in area: ActivityCells) -> Int {
        var peak = 0
        for index in 0..<Self.cellCount where area.contains(cell: index) { peak = max(peak, Int(counts[index])) }
        return peak
    }

    /// The counts as 512 bytes, little-endian, for storage.
    public var bytes: [UInt8] { counts.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

    /// A grid from `bytes`; `nil` unless there are 512 of them.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.cellCount * 2 else { return nil }
        counts = (0..<Self.cellCount).map { UInt16(bytes[2 * $0]) | UInt16(bytes[2 * $0 + 1]) << 8 }
    }
}

/// Accumulates the camera's frames into one `ActivityGrid` per minute of the wall clock (minute = milliseconds
/// since the epoch / 60,000) and hands over each minute once the next begins. A clock stepping back starts a new
/// minute too: the store adds it to what it holds for that minute.
public struct ActivityAccumulator: Sendable {
    public private(set) var minute: Int64?
    public private(set) var grid = ActivityGrid()

    public init() {}

    /// Counts one frame at `millis`; returns the finished minute when this frame begins another (`nil` if that
    /// minute saw no motion at all: nothing to store).
    public mutating func frame(millis: Int64, boxes: some Sequence<NormalizedRect>) -> (
        minute: Int64, grid: ActivityGrid
    )? {
        let current = millis / 60_000
        var finished: (minute: Int64, grid: ActivityGrid)?
        if let minute, minute != current {
            finished = finish()
        }
        minute = current
        grid.add(frame: boxes)
        return finished
    }

    /// Hands over the minute in progress (at a stop), if it saw motion.
    public mutating func finish() -> (minute: Int64, grid: ActivityGrid)? {
        defer {
            minute = nil
            grid = ActivityGrid()
        }
        guard let minute, !grid.isEmpty else { return nil }
        return (minute, grid)
    }
}
