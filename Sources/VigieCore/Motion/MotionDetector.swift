/// Finds moving regions in masked frames.
///
/// Works on the luma plane averaged over square cells (about `gridColumns` across), which both cuts the
/// cost and averages sensor noise away. Per cell it keeps a background level and a noise estimate; a
/// cell changes when it leaves the background by more than its zone's threshold or four times its
/// noise. Global light changes are removed first: the scene's gain against the background is estimated
/// robustly and divided out, and if more than `globalChangeFraction` of the image still changes (the
/// IR switch, a floodlight), the background is re-learnt and no motion is reported. Cells touching a
/// privacy mask are never considered. Changed cells with no changed neighbour are dropped as noise;
/// the rest are grouped into 8-connected regions per zone, and regions smaller than the zone's
/// minimum area are ignored.
///
/// Memory is allocated at `init`; `detect` allocates nothing once `boxes` has reached its size.
public final class MotionDetector {
    /// Detection grid size.
    public let columns: Int
    public let rows: Int
    /// Side of a grid cell in pixels.
    public let cellSize: Int
    public let geometry: FrameGeometry
    public let settings: MotionSettings
    public let zones: [Zone]
    /// Regions found in the last frame, largest first.
    public private(set) var boxes: [MotionBox] = []
    /// Whether the last frame was taken as a global light change.
    public private(set) var lastWasGlobalChange = false
    /// Gain of the last frame against the background (1 = same light).
    public private(set) var lastGain: Float = 1

    private var downscaler: LumaDownscaler
    private var current: [Float]
    private var background: [Float]
    private var deviation: [Float]
    private var changed: [UInt8]
    /// Per cell: zone index, or -1 when the cell is masked or outside every zone.
    private let cellZone: [Int32]
    private let zoneThreshold: [Float]
    private var labels: [Int32]
    private var stack: [Int32]
    private var framesSeen = 0
    private var settleFrames = 0
    private let validCount: Int
    /// Per zone: the fewest cells a region needs.
    private let minimumCells: [Int]
    private let cellArea: Double

    /// - Parameters:
    ///   - geometry: the frames' geometry.
    ///   - mask: the raster applied to those frames; cells touching it are ignored.
    ///   - zones: where to look; empty means the whole image with `settings`.
    public init(geometry: FrameGeometry, mask: MaskRaster, settings: MotionSettings, zones: [Zone] = []) {
        self.geometry = geometry
        self.settings = settings
        let zones = zones.isEmpty ? [Zone.wholeImage(settings)] : zones
        self.zones = zones
        let cell = max(1, min(256, Int((Double(geometry.width) / Double(max(8, settings.gridColumns))).rounded())))
        self.cellSize = cell
        self.downscaler = LumaDownscaler(width: geometry.width, height: geometry.height, cell: cell)
        let columns = downscaler.columns
        let rows = downscaler.rows
        self.columns = columns
        self.rows = rows
        let count = columns * rows
        current = [Float](repeating: 0, count: count)
        background = [Float](repeating: 0, count: count)
        deviation = [Float](repeating: 1, count: count)
        changed = [UInt8](repeating: 0, count: count)
        labels = [Int32](repeating: 0, count: count)
        stack = [Int32](repeating: 0, count: count)
        cellArea = Double(cell * cell) / Double(geometry.width * geometry.height)

        var cellZone = [Int32](repeating: -1, count: count)
        // Later zones first, so that where zones overlap the first one listed wins.
        for (index, zone) in zones.enumerated().reversed() {
            let table =
                zone.polygon.map {
                    SpanTable(polygons: [$0.points], width: columns, height: rows, coverage: .centre)
                } ?? SpanTable(
                    width: columns, height: rows, rowStart: (0...rows).map { Int32($0) },
                    spans: (0..<rows).flatMap { _ in [Int32(0), Int32(columns)] })
            for gy in 0..<rows {
                for k in Int(table.rowStart[gy])..<Int(table.rowStart[gy + 1]) {
                    for gx in Int(table.spans[2 * k])..<Int(table.spans[2 * k + 1]) {
                        cellZone[gy * columns + gx] = Int32(index)
                    }
                }
            }
        }
        // A cell with any masked pixel is excluded: its average would mix hidden and visible pixels, and a
        // box drawn over it would reach into the mask.
        let luma = mask.luma
        for y in 0..<luma.height {
            for k in Int(luma.rowStart[y])..<Int(luma.rowStart[y + 1]) {
                let first = Int(luma.spans[2 * k]) / cell
                let last = (Int(luma.spans[2 * k + 1]) - 1) / cell
                for gx in first...last { cellZone[(y / cell) * columns + gx] = -1 }
            }
        }
        self.cellZone = cellZone
        self.validCount = cellZone.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        let cellArea = self.cellArea
        self.minimumCells = zones.map { max(1, Int(($0.minimumArea / cellArea).rounded(.up))) }
        self.zoneThreshold = zones.map { MotionSettings.threshold(sensitivity: $0.sensitivity) }
        boxes.reserveCapacity(64)
    }

    /// Forgets the background, as after a camera reconnect: the next frames re-learn it and report nothing.
    public func reset() {
        framesSeen = 0
        boxes.removeAll(keepingCapacity: true)
    }

    /// Looks for motion in `frame`; the result is in `boxes`.
    ///
    /// - Returns: the number of regions found (`boxes.count`).
    @discardableResult
    public func detect(_ frame: MaskedFrame) -> Int {
        precondition(frame.geometry == geometry, "detector is for \(geometry), frame is \(frame.geometry)")
        boxes.removeAll(keepingCapacity: true)
        lastWasGlobalChange = false
        let plane = geometry.planes[0]
        current.withUnsafeMutableBufferPointer { output in
            downscaler.downscale(
                luma: UnsafeRawPointer(frame.frame.bytes.baseAddress! + plane.offset), stride: plane.stride,
                step: geometry.lumaStep, into: output)
        }
        if framesSeen == 0 || settleFrames > 0 {
            relearnBackground()
            if framesSeen == 0 { deviation.withUnsafeMutableBufferPointer { $0.update(repeating: 1) } }
            framesSeen += 1
            settleFrames = max(0, settleFrames - 1)
            lastGain = 1
            return 0
        }
        framesSeen += 1
        let gain = estimateGain()
        lastGain = gain
        let changedCount = classify(gain: gain)
        if validCount > 0 && Double(changedCount) > settings.globalChangeFraction * Double(validCount) {
            // Light change, not motion: re-learn over a few frames (lamps and IR cut filters take a moment).
            lastWasGlobalChange = true
            relearnBackground()
            settleFrames = 2
            return 0
        }
        if changedCount > 0 { findRegions() }
        updateBackground()
        return boxes.count
    }

    private func relearnBackground() {
        current.withUnsafeBufferPointer { cur in
            background.withUnsafeMutableBufferPointer { bg in _ = bg.update(fromContentsOf: cur) }
        }
    }

    /// Ratio of the scene's brightness to the background's, ignoring cells that moved.
    private func estimateGain() -> Float {
        current.withUnsafeBufferPointer { cur in
            background.withUnsafeBufferPointer { bg in
                cellZone.withUnsafeBufferPointer { zone in
                    var sumCurrent: Float = 0
                    var sumBackground: Float = 0
                    for i in 0..<cur.count where zone[i] >= 0 && bg[i] > 8 && bg[i] < 247 {
                        sumCurrent += cur[i]
                        sumBackground += bg[i]
                    }
                    guard sumBackground > 0 else { return 1 }
                    var gain = sumCurrent / sumBackground
                    // Second pass without the cells that disagree with the first estimate (moving objects).
                    sumCurrent = 0
                    sumBackground = 0
                    let limit: Float = 12
                    for i in 0..<cur.count where zone[i] >= 0 && bg[i] > 8 && bg[i] < 247 {
                        if abs(cur[i] - gain * bg[i]) < limit {
                            sumCurrent += cur[i]
                            sumBackground += bg[i]
                        }
                    }
                    if sumBackground > 0 { gain = sumCurrent / sumBackground }
                    return min(4, max(0.25, gain))
                }
            }
        }
    }

    /// Marks changed cells; returns how many.
    private func classify(gain: Float) -> Int {
        var count = 0
        current.withUnsafeBufferPointer { cur in
            background.withUnsafeBufferPointer { bg in
                deviation.withUnsafeBufferPointer { dev in
                    cellZone.withUnsafeBufferPointer { zone in
                        zoneThreshold.withUnsafeBufferPointer { threshold in
                            changed.withUnsafeMutableBufferPointer { out in
                                for i in 0..<cur.count {
                                    let z = zone[i]
                                    guard z >= 0 else {
                                        out[i] = 0
                                        continue
                                    }
                                    let expected = min(255, gain * bg[i])
                                    let difference = abs(cur[i] - expected)
                                    let limit = max(threshold[Int(z)], 4 * dev[i])
                                    let isChanged: UInt8 = difference > limit ? 1 : 0
                                    out[i] = isChanged
                                    count += Int(isChanged)
                                }
                            }
                        }
                    }
                }
            }
        }
        return count
    }

    /// Groups changed cells into regions per zone, dropping isolated cells and small regions.
    private func findRegions() {
        let columns = self.columns
        let rows = self.rows
        let zoneCount = zones.count
        changed.withUnsafeMutableBufferPointer { changed in
            labels.withUnsafeMutableBufferPointer { labels in
                stack.withUnsafeMutableBufferPointer { stack in
                    cellZone.withUnsafeBufferPointer { zone in
                        labels.update(repeating: 0)
                        var nextLabel: Int32 = 0
                        for start in 0..<changed.count where changed[start] == 1 && labels[start] == 0 {
                            let z = zone[start]
                            guard z >= 0, z < zoneCount else { continue }
                            nextLabel += 1
                            labels[start] = nextLabel
                            var top = 0
                            stack[top] = Int32(start)
                            top += 1
                            var count = 0
                            var minX = columns
                            var maxX = -1
                            var minY = rows
                            var maxY = -1
                            while top > 0 {
                                top -= 1
                                let index = Int(stack[top])
                                let x = index % columns
                                let y = index / columns
                                count += 1
                                minX = min(minX, x)
                                maxX = max(maxX, x)
                                minY = min(minY, y)
                                maxY = max(maxY, y)
                                for dy in -1...1 {
                                    let ny = y + dy
                                    guard ny >= 0, ny < rows else { continue }
                                    for dx in -1...1 {
                                        let nx = x + dx
                                        guard nx >= 0, nx < columns else { continue }
                                        let neighbour = ny * columns + nx
                                        if changed[neighbour] == 1 && labels[neighbour] == 0 && zone[neighbour] == z {
                                            labels[neighbour] = nextLabel
                                            stack[top] = Int32(neighbour)
                                            top += 1
                                        }
                                    }
                                }
                            }
                            // A lone cell is sensor noise or a leaf; real objects span neighbouring cells.
                            guard count >= 2, count >= minimumCells[Int(z)] else { continue }
                            let cell = Double(cellSize)
                            let width = Double(geometry.width)
                            let height = Double(geometry.height)
                            let left = Double(minX) * cell / width
                            let upper = Double(minY) * cell / height
                            let right = min(1, Double(maxX + 1) * cell / width)
                            let bottom = min(1, Double(maxY + 1) * cell / height)
                            boxes.append(
                                MotionBox(
                                    zone: Int(z),
                                    rect: NormalizedRect(x: left, y: upper, width: right - left, height: bottom - upper),
                                    area: Double(count) * cellArea))
                        }
                    }
                }
            }
        }
        boxes.sort { $0.area > $1.area }
    }

    /// Follows slow changes; moving cells are learnt 20× slower so a parked car fades in over time.
    private func updateBackground() {
        let fast = Float(settings.learningRate)
        let slow = fast / 20
        let deviationRate: Float = 0.02
        let gain = lastGain
        current.withUnsafeBufferPointer { cur in
            background.withUnsafeMutableBufferPointer { bg in
                deviation.withUnsafeMutableBufferPointer { dev in
                    changed.withUnsafeBufferPointer { changed in
                        for i in 0..<cur.count {
                            let difference = cur[i] - bg[i]
                            if changed[i] == 0 {
                                bg[i] += fast * difference
                                let residual = min(30, abs(cur[i] - min(255, gain * bg[i])))
                                dev[i] = max(0.5, dev[i] + deviationRate * (residual - dev[i]))
                            } else {
                                bg[i] += slow * difference
                            }
                        }
                    }
                }
            }
        }
    }
}
