/// Finds moving regions in masked frames.
///
/// Works on the luma plane averaged over square cells (about `gridColumns` across), which both cuts the
/// cost and averages sensor noise away. Per cell it keeps a background level and a noise estimate; a
/// cell changes when it leaves the background by more than its zone's threshold or four times its
/// noise. Global light changes are removed first: the scene's gain against the background is estimated
/// robustly and divided out, and if more than `globalChangeFraction` of the image still changes (a floodlight),
/// or the black level jumped (an offset of more than `maximumOffset` grey levels in a line fitted through the
/// same cells: the infrared switch, an exposure jump), the background is re-learnt and no motion is reported.
/// Cells touching a privacy mask are never considered. Changed cells with no changed neighbour are dropped as noise;
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
    /// Per cell: the zone's grey-level threshold, or infinity where the cell is masked or outside every zone.
    private let cellThreshold: [Float]
    /// Per cell: 1 where detection looks, 0 elsewhere (for the gain estimate).
    private let cellWeight: [Float]
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
        // Per-cell arrays are padded to whole SIMD lanes; padding cells are never valid.
        let padded = (count + 7) / 8 * 8
        current = [Float](repeating: 0, count: padded)
        background = [Float](repeating: 0, count: padded)
        deviation = [Float](repeating: 1, count: padded)
        changed = [UInt8](repeating: 0, count: padded)
        labels = [Int32](repeating: 0, count: count)
        stack = [Int32](repeating: 0, count: count)
        cellArea = Double(cell * cell) / Double(geometry.width * geometry.height)

        var cellZone = [Int32](repeating: -1, count: count)
        // Later zones first, so that where zones overlap the first one listed wins.
        for (index, zone) in zones.enumerated().reversed() {
            let table =
                zone.polygon.map {
                    SpanTable(polygons: [$0.points], width: columns, height: rows, coverage: .centre)
                }
                ?? SpanTable(
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
        let zoneThreshold = zones.map { MotionSettings.threshold(sensitivity: $0.sensitivity) }
        var threshold = [Float](repeating: .infinity, count: padded)
        var weight = [Float](repeating: 0, count: padded)
        for index in 0..<count where cellZone[index] >= 0 {
            threshold[index] = zoneThreshold[Int(cellZone[index])]
            weight[index] = 1
        }
        self.cellThreshold = threshold
        self.cellWeight = weight
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
    public func detect(_ frame: borrowing MaskedFrame) -> Int {
        precondition(frame.geometry == geometry, "detector is for \(geometry), frame is \(frame.geometry)")
        boxes.removeAll(keepingCapacity: true)
        lastWasGlobalChange = false
        let plane = geometry.planes[0]
        let luma = UnsafeRawPointer(frame.frame.bytes.baseAddress! + plane.offset)
        current.withUnsafeMutableBufferPointer { output in
            downscaler.downscale(luma: luma, stride: plane.stride, step: geometry.lumaStep, into: output)
        }
        if framesSeen == 0 || settleFrames > 0 {
            relearnBackground()
            if framesSeen == 0 { deviation.withUnsafeMutableBufferPointer { $0.update(repeating: 1) } }
            framesSeen += 1
            settleFrames = max(0, settleFrames - 1)
            lastGain = 1
            clearChanged()
            return 0
        }
        framesSeen += 1
        let light = estimateLight()
        lastGain = light.gain
        let changedCount = classifyAndLearn(gain: light.gain)
        let isLightChange =
            validCount > 0 && Double(changedCount) > settings.globalChangeFraction * Double(validCount)
        // A black level that jumped (the infrared switch) is a change of the camera, not motion, however few cells
        // a gain alone leaves unexplained.
        if isLightChange || abs(light.offset) > Self.maximumOffset {
            // Light change, not motion: re-learn over a few frames (lamps and IR cut filters take a moment).
            lastWasGlobalChange = true
            relearnBackground()
            settleFrames = 2
            clearChanged()
            return 0
        }
        if changedCount > 0 { findRegions() }
        return boxes.count
    }

    /// Lends the last frame's changed cells (`columns × rows`, row-major, 1 where the cell changed) to `body`: all
    /// zero on a frame that found nothing by construction (learning, settling, a light change).
    public func withChanged<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        changed.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<(columns * rows)])) }
    }

    /// Whether detection looks at grid cell `cell` (not masked; inside a motion zone, or any cell without one).
    public func isWatched(cell: Int) -> Bool { cellZone[cell] >= 0 }

    /// The share of the image detection looks at (0…1), in whole cells.
    public var watchedArea: Double { Double(validCount) * cellArea }

    /// Lends the last frame's grid (`columns × rows` cell means, row-major, masked cells included) to `body`.
    func withGrid<Result>(_ body: (UnsafeBufferPointer<Float>) -> Result) -> Result {
        current.withUnsafeBufferPointer(body)
    }

    /// Grey levels of black-level jump (see the type's description) above which a frame is a light change.
    static let maximumOffset: Float = 15

    private func clearChanged() {
        changed.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    private func relearnBackground() {
        current.withUnsafeBufferPointer { cur in
            background.withUnsafeMutableBufferPointer { bg in _ = bg.update(fromContentsOf: cur) }
        }
    }

    /// Ratio of the scene's brightness to the background's, ignoring cells that moved; and the offset of a line
    /// fitted through the same cells (`current ≈ g × background + offset`), which a change of black level (the
    /// infrared switch, an exposure jump) shows and a change of light alone does not.
    private func estimateLight() -> (gain: Float, offset: Float) {
        current.withUnsafeBufferPointer { cur in
            background.withUnsafeBufferPointer { bg in
                cellWeight.withUnsafeBufferPointer { weight in
                    let count = cur.count
                    let c = UnsafeRawPointer(cur.baseAddress!)
                    let b = UnsafeRawPointer(bg.baseAddress!)
                    let w = UnsafeRawPointer(weight.baseAddress!)
                    // Saturated and near-black cells say nothing about gain.
                    let low = SIMD8<Float>(repeating: 8)
                    let high = SIMD8<Float>(repeating: 247)
                    var sumCurrent = SIMD8<Float>()
                    var sumBackground = SIMD8<Float>()
                    var offset = 0
                    while offset < count * 4 {
                        let cv = c.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        let bv = b.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        var wv = w.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        wv.replace(with: 0, where: (bv .<= low) .| (bv .>= high))
                        sumCurrent += cv * wv
                        sumBackground += bv * wv
                        offset += 32
                    }
                    guard sumBackground.sum() > 0 else { return (1, 0) }
                    let first = sumCurrent.sum() / sumBackground.sum()
                    // Second pass without the cells that disagree with the first estimate (moving objects).
                    let gain = SIMD8<Float>(repeating: first)
                    let limit = SIMD8<Float>(repeating: 12)
                    sumCurrent = SIMD8<Float>()
                    sumBackground = SIMD8<Float>()
                    var sumWeight = SIMD8<Float>()
                    var sumSquares = SIMD8<Float>()
                    var sumProducts = SIMD8<Float>()
                    offset = 0
                    while offset < count * 4 {
                        let cv = c.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        let bv = b.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        var wv = w.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        let residual = cv - gain * bv
                        wv.replace(
                            with: 0,
                            where: (bv .<= low) .| (bv .>= high) .| (residual .>= limit) .| (residual .<= -limit))
                        let wb = bv * wv
                        sumCurrent += cv * wv
                        sumBackground += wb
                        sumWeight += wv
                        sumSquares += wb * bv
                        sumProducts += wb * cv
                        offset += 32
                    }
                    let second = sumBackground.sum() > 0 ? sumCurrent.sum() / sumBackground.sum() : first
                    let n = sumWeight.sum()
                    guard n > 0 else { return (min(4, max(0.25, second)), 0) }
                    let meanB = sumBackground.sum() / n
                    let meanC = sumCurrent.sum() / n
                    let variance = sumSquares.sum() / n - meanB * meanB
                    // Too flat a scene cannot tell a gain from an offset.
                    let slope = variance > 25 ? (sumProducts.sum() / n - meanB * meanC) / variance : second
                    return (min(4, max(0.25, second)), meanC - slope * meanB)
                }
            }
        }
    }

    /// Marks changed cells and, in the same pass, lets the background and noise estimates follow the scene:
    /// quiet cells at `learningRate`, changed cells 20× slower so that a parked car fades in over time.
    /// Returns how many cells changed.
    private func classifyAndLearn(gain: Float) -> Int {
        let fast = Float(settings.learningRate)
        var total = SIMD8<Int32>()
        current.withUnsafeBufferPointer { cur in
            background.withUnsafeMutableBufferPointer { bg in
                deviation.withUnsafeMutableBufferPointer { dev in
                    cellThreshold.withUnsafeBufferPointer { threshold in
                        changed.withUnsafeMutableBufferPointer { out in
                            let c = UnsafeRawPointer(cur.baseAddress!)
                            let b = UnsafeMutableRawPointer(bg.baseAddress!)
                            let d = UnsafeMutableRawPointer(dev.baseAddress!)
                            let t = UnsafeRawPointer(threshold.baseAddress!)
                            let o = UnsafeMutableRawPointer(out.baseAddress!)
                            let gainVector = SIMD8<Float>(repeating: gain)
                            let white = SIMD8<Float>(repeating: 255)
                            let fastRate = SIMD8<Float>(repeating: fast)
                            let slowRate = SIMD8<Float>(repeating: fast / 20)
                            let noiseRate = SIMD8<Float>(repeating: 0.02)
                            let noiseCap = SIMD8<Float>(repeating: 30)
                            let noiseFloor = SIMD8<Float>(repeating: 0.5)
                            var cell = 0
                            while cell < cur.count {
                                let offset = cell * 4
                                let cv = c.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                let bv = b.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                let dv = d.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                let tv = t.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                var expected = bv * gainVector
                                expected.replace(with: white, where: expected .> white)
                                var difference = cv - expected
                                difference.replace(with: -difference, where: difference .< 0)
                                var limit = dv * 4
                                limit.replace(with: tv, where: tv .> limit)
                                let isChanged = difference .> limit
                                let flags = SIMD8<Int32>().replacing(with: 1, where: isChanged)
                                total &+= flags
                                o.storeBytes(
                                    of: SIMD8<UInt8>(truncatingIfNeeded: flags), toByteOffset: cell,
                                    as: SIMD8<UInt8>.self)
                                let rate = fastRate.replacing(with: slowRate, where: isChanged)
                                b.storeBytes(of: bv + (cv - bv) * rate, toByteOffset: offset, as: SIMD8<Float>.self)
                                var residual = difference
                                residual.replace(with: noiseCap, where: residual .> noiseCap)
                                var learnt = dv + (residual - dv) * noiseRate
                                learnt.replace(with: noiseFloor, where: learnt .< noiseFloor)
                                d.storeBytes(
                                    of: dv.replacing(with: learnt, where: .!isChanged), toByteOffset: offset,
                                    as: SIMD8<Float>.self)
                                cell += 8
                            }
                        }
                    }
                }
            }
        }
        return Int(total.wrappedSum())
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
                        for start in 0..<(columns * rows) where changed[start] == 1 && labels[start] == 0 {
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
                                    rect: NormalizedRect(
                                        x: left, y: upper, width: right - left, height: bottom - upper),
                                    area: Double(count) * cellArea))
                        }
                    }
                }
            }
        }
        boxes.sort { $0.area > $1.area }
    }
}
