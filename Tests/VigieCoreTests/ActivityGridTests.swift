import Testing
import VigieCore

@Suite("Activity grid")
struct ActivityGridTests {
    @Test func aBoxCountsOncePerFrameInEachCellItOverlaps() {
        var grid = ActivityGrid()
        // Columns 4…7, rows 8…11 (x 0.25…0.5, y 0.5…0.75), and a second box overlapping the first's corner.
        let boxes = [
            NormalizedRect(x: 0.25, y: 0.5, width: 0.25, height: 0.25),
            NormalizedRect(x: 0.45, y: 0.7, width: 0.1, height: 0.1),
        ]
        grid.add(frame: boxes)
        grid.add(frame: boxes.prefix(1))
        #expect(grid.counts[8 * 16 + 4] == 2)
        #expect(grid.counts[11 * 16 + 7] == 2, "overlapped by both boxes of a frame: still one per frame")
        #expect(grid.counts[12 * 16 + 8] == 1, "only the second box, only the first frame")
        #expect(grid.counts[7 * 16 + 4] == 0 && grid.counts[8 * 16 + 3] == 0)
        // The first box twice (16 cells), and the three cells of the second box outside the first once.
        #expect(grid.counts.reduce(0) { $0 + Int($1) } == 16 * 2 + 3)
        grid.add(frame: [])
        #expect(grid.peak(in: ActivityCells(covering: NormalizedRect(x: 0, y: 0, width: 1, height: 1))) == 2)
    }

    @Test(
        "a query area selects the cells it overlaps",
        arguments: [
            (NormalizedRect(x: 0, y: 0, width: 1, height: 1), 256),
            (NormalizedRect(x: 0, y: 0, width: 0.0625, height: 0.0625), 1),
            (NormalizedRect(x: 0.03, y: 0.03, width: 0.0625, height: 0.0625), 4),
            (NormalizedRect(x: 0.99, y: 0.99, width: 0, height: 0), 1),
            (NormalizedRect(x: 0.5, y: 0, width: 0.5, height: 0.25), 32),
            (NormalizedRect(x: 0.9, y: 0.9, width: 0.5, height: 0.5), 4),
        ])
    func queryCells(area: NormalizedRect, count: Int) {
        let cells = ActivityCells(covering: area)
        #expect((0..<256).filter { cells.contains(cell: $0) }.count == count)
    }

    @Test func cellsIntersectOnlyWhereMotionWas() {
        var grid = ActivityGrid()
        grid.add(frame: [NormalizedRect(x: 0.8, y: 0.1, width: 0.1, height: 0.1)])
        #expect(
            grid.cells.intersects(ActivityCells(covering: NormalizedRect(x: 0.75, y: 0, width: 0.25, height: 0.25))))
        #expect(!grid.cells.intersects(ActivityCells(covering: NormalizedRect(x: 0, y: 0, width: 0.5, height: 1))))
        #expect(ActivityGrid(bytes: grid.bytes) == grid)
        #expect(ActivityGrid(bytes: [1, 2, 3]) == nil)
    }

    @Test func countsSaturate() {
        var grid = ActivityGrid(counts: Array(repeating: UInt16.max - 1, count: 256))!
        grid.add(frame: [NormalizedRect(x: 0, y: 0, width: 0.01, height: 0.01)])
        grid.add(frame: [NormalizedRect(x: 0, y: 0, width: 0.01, height: 0.01)])
        #expect(grid.counts[0] == .max)
        grid.merge(grid)
        #expect(grid.counts[1] == .max)
    }

    @Test func theAccumulatorHandsOverEachMinuteWithMotion() {
        var accumulator = ActivityAccumulator()
        let box = [NormalizedRect(x: 0.1, y: 0.1, width: 0.05, height: 0.05)]
        var finished: [(minute: Int64, grid: ActivityGrid)] = []
        // 15 fps for three minutes from 10:00:30; motion in the first 100 frames and the last 10.
        let start: Int64 = 1_764_496_830_000
        for frame in 0..<(15 * 180) {
            let boxes = frame < 100 || frame >= 15 * 180 - 10 ? box : []
            if let minute = accumulator.frame(millis: start + Int64(frame) * 1000 / 15, boxes: boxes) {
                finished.append(minute)
            }
        }
        if let last = accumulator.finish() { finished.append(last) }
        #expect(finished.map(\.minute) == [start / 60_000, start / 60_000 + 3])
        #expect(finished.map { $0.grid.counts[1 * 16 + 1] } == [100, 10])
        #expect(accumulator.finish() == nil)
    }

    @Test func aMaskChangeNamesWhatChanged() throws {
        func polygon(_ name: String, _ size: Double) throws -> MaskPolygon {
            try MaskPolygon(
                name: name,
                points: [
                    NormalizedPoint(x: 0.1, y: 0.1), NormalizedPoint(x: 0.1 + size, y: 0.1),
                    NormalizedPoint(x: 0.1, y: 0.1 + size),
                ])
        }
        let old = PrivacyMask(polygons: [try polygon("window", 0.2), try polygon("garden", 0.3)])
        let new = PrivacyMask(polygons: [try polygon("window", 0.25), try polygon("door", 0.1)])
        let record = try #require(AuditRecord.maskChange(from: old, to: new, user: "vigied", reason: "reload"))
        #expect(record.action == .maskChange(added: ["door"], removed: ["garden"], redrawn: ["window"], now: 2))
        #expect(AuditRecord.maskChange(from: old, to: old, user: "vigied", reason: "reload") == nil)
        let event = UnitEvent.audit(record).uplinkEvent
        #expect(event.kind == "mask_change")
        #expect(event.details.map(\.key) == ["user", "reason", "added", "removed", "redrawn", "masks"])
    }
}
