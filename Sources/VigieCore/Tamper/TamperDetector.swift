/// Tells when the camera's view is tampered with: covered or blinded, defocused, or moved.
///
/// It looks only at global statistics of the motion detector's grid (luma averaged over cells of about 1/160 of
/// the width), so it identifies nobody and costs one pass over that small grid per frame. Cells touching a
/// privacy mask are left out of every statistic (their pixels are blanked, and would read as a flat, dark part
/// of the view). The grid is smoothed over about 0.3 s against sensor noise, then compared with a reference
/// view learned at start and re-learned slowly (`relearn`) while nothing is wrong:
/// - contrast: the standard deviation of luma over the reference's. A cover, a hand or a saturating light leaves
///   a nearly uniform image (well under `coveredContrast`); dusk, lamps and the infrared switch scale it by far
///   less.
/// - sharpness: the mean squared gradient over the variance, against the reference's. Blur spreads each edge
///   over several cells, which divides its squared gradient by about that width while the large-scale contrast
///   stays; a change of gain or offset cancels out, and noise only raises it.
/// - correlation: the normalised correlation of the luma gradients with the reference's. It is near 1 for the
///   same view under any gain and offset (day, night, lamps, the IR switch) and near 0 once the view has moved
///   by a few cells.
/// A frame is classed covered, else defocused, else moved, else right; a state is reported only once its class
/// has lasted `hold` seconds (time in other classes counts down), so a bus filling the view for two seconds is
/// not a tampering, and cleared once the frame has been right again, with some margin, for `hold` seconds.
/// The reference is frozen while anything is suspect, and taken afresh from the view after a clearing. A scene
/// with almost no contrast (a foggy night) cannot be judged: nothing is reported until it has some.
///
/// A camera that stays moved for `acceptMovedAfter` seconds has been turned for good: its new view becomes the
/// reference, with a clearing whose reason is `accepted`. After a camera reconnect (`resume()`) and across a reload
/// that keeps the grid and the masks (`carry(from:)`), the reference and a tampering in progress are kept, so a
/// camera unplugged and plugged back covered is still reported covered, and cleared when it is right; when they
/// cannot be kept, `abandon(reason:)` gives the clearing to report.
///
/// Memory is allocated at `init`; `update` allocates nothing.
public final class TamperDetector {
    public let settings: TamperSettings
    /// The state now: `nil` while the view is right.
    public private(set) var state: TamperState?
    /// What the last frame measured (`nil` while learning).
    public private(set) var lastMeasurement: TamperMeasurement?

    private let columns: Int
    private let count: Int
    private var smooth: [Float]
    private var reference: [Float]
    /// Per cell: 1 where it counts (not masked), 0 elsewhere; the same for the horizontal and vertical gradients
    /// starting at the cell (both cells unmasked and inside the grid).
    private let weight: [Float]
    private let weightX: [Float]
    private let weightY: [Float]
    private let cellCount: Float
    private let gradientCount: Float
    private var lastTime: Double?
    private var learnt = 0.0
    private var pending: [Double] = [0, 0, 0]
    /// Per class: the frame and time its `pending` last rose from zero, where a tampering raised began.
    private var pendingSince: [(frame: Int, time: Double)] = [(0, 0), (0, 0), (0, 0)]
    private var rightFor = 0.0
    private var since = 0.0
    /// When the state became `moved` (it may have been another tampering before).
    private var movedSince = 0.0
    /// The next frame restarts the smoothing from itself (after a reconnect), keeping the reference.
    private var resuming = false
    private var lastFrame = 0
    private var shift: Float = 128
    private var referenceShift: Float = 128

    /// Seconds of frames the first reference is learned over (nothing is reported meanwhile).
    static let learning = 2.0
    /// Time constant of the smoothing of the grid, seconds.
    static let smoothing = 0.3
    /// Least contrast (grey levels of cell averages) a reference needs to be judged against.
    static let minimumContrast: Float = 2

    /// - Parameters:
    ///   - columns, rows, cell: the motion detector's grid and its cells' side in pixels.
    ///   - mask: the raster applied to the frames; cells touching it are left out.
    init(columns: Int, rows: Int, cell: Int, mask: MaskRaster, settings: TamperSettings) {
        self.settings = settings
        self.columns = columns
        let count = columns * rows
        self.count = count
        var valid = [Float](repeating: 1, count: count)
        let luma = mask.luma
        for y in 0..<luma.height {
            for k in Int(luma.rowStart[y])..<Int(luma.rowStart[y + 1]) {
                let first = Int(luma.spans[2 * k]) / cell
                let last = (Int(luma.spans[2 * k + 1]) - 1) / cell
                for gx in first...last { valid[(y / cell) * columns + gx] = 0 }
            }
        }
        // Padded so that SIMD loads at a cell's right and lower neighbours stay inside; padding weighs nothing.
        let padded = (count + columns + 8 + 7) / 8 * 8
        var weight = [Float](repeating: 0, count: padded)
        var weightX = weight
        var weightY = weight
        for index in 0..<count where valid[index] == 1 {
            weight[index] = 1
            if index % columns != columns - 1 && valid[index + 1] == 1 { weightX[index] = 1 }
            if index + columns < count && valid[index + columns] == 1 { weightY[index] = 1 }
        }
        self.weight = weight
        self.weightX = weightX
        self.weightY = weightY
        self.cellCount = weight.reduce(0, +)
        self.gradientCount = weightX.reduce(0, +) + weightY.reduce(0, +)
        self.smooth = [Float](repeating: 0, count: padded)
        self.reference = [Float](repeating: 0, count: padded)
    }

    /// Forgets the reference and any tampering in progress: the next frames learn the view again, and nothing is
    /// reported meanwhile. Report `abandon(reason:)` first if a tampering is in progress.
    public func reset() {
        lastTime = nil
        learnt = 0
        state = nil
        lastMeasurement = nil
        pending = [0, 0, 0]
        rightFor = 0
        resuming = false
    }

    /// After a gap in the frames (a camera reconnect): the next frame restarts the smoothing, and the reference and
    /// a tampering in progress are kept, so the view is judged against what the camera showed before.
    public func resume() {
        lastTime = nil
        resuming = true
    }

    /// Takes over the reference and the state of `previous` (the detector of the pipeline a reload replaces) when
    /// both see the same grid with the same cells masked, as after `resume()`. Returns whether it could: when
    /// not, this detector learns the view afresh and a tampering in progress in `previous` is to be reported as
    /// over with `previous.abandon(reason:)`.
    @discardableResult
    public func carry(from previous: TamperDetector) -> Bool {
        guard previous.count == count, previous.columns == columns, previous.weight == weight, previous.learnt > 0
        else { return false }
        reference = previous.reference
        smooth = previous.smooth
        learnt = previous.learnt
        state = previous.state
        lastMeasurement = previous.lastMeasurement
        pending = previous.pending
        pendingSince = previous.pendingSince
        rightFor = previous.rightFor
        since = previous.since
        movedSince = previous.movedSince
        shift = previous.shift
        referenceShift = previous.referenceShift
        lastFrame = previous.lastFrame
        lastTime = nil
        resuming = true
        return true
    }

    /// The clearing to report when this detector is dropped or starts over (`reset()`, a reload it could not be
    /// carried across) while a tampering is in progress, saying why; `nil` when nothing is in progress. The state
    /// is left as it is: the caller resets or drops the detector.
    public func abandon(reason: TamperChange.Reason) -> TamperChange? {
        guard let state else { return nil }
        return TamperChange(
            state: nil, previous: state, confidence: 0.5,
            measurement: lastMeasurement ?? TamperMeasurement(contrast: 0, sharpness: 0, correlation: 0, luma: 0),
            frame: lastFrame, time: lastTime ?? since, duration: max(0, (lastTime ?? since) - since), reason: reason)
    }

    /// Takes the next frame's grid (`columns × rows` cell means, as the motion detector left it).
    ///
    /// - Returns: the change of state this frame decided, if any.
    func update(grid: UnsafeBufferPointer<Float>, frame: Int, time: Double) -> TamperChange? {
        precondition(grid.count >= count, "grid smaller than the detector's")
        let dt = lastTime.map { min(1, max(0, time - $0)) } ?? 0
        lastTime = time
        lastFrame = frame
        if resuming {
            resuming = false
            if learnt > 0 {
                copy(grid, into: &smooth)
                return nil
            }
        }
        if learnt == 0 {
            copy(grid, into: &smooth)
            copy(grid, into: &reference)
            learnt = Double.ulpOfOne
            return nil
        }
        blend(grid, into: &smooth, rate: Float(dt / (dt + Self.smoothing)))
        guard learnt >= Self.learning else {
            learnt += dt
            blend(smooth, into: &reference, rate: 1)
            return nil
        }
        guard let measurement = measure() else {
            // Too little contrast to judge (or everything masked): follow the view until there is some.
            blend(smooth, into: &reference, rate: Float(dt / (dt + settings.relearn)))
            lastMeasurement = nil
            return nil
        }
        lastMeasurement = measurement
        let suspect = classify(measurement, margin: 1)
        for (index, kind) in TamperState.allCases.enumerated() {
            if kind == suspect {
                if pending[index] == 0 { pendingSince[index] = (frame, time) }
                pending[index] += dt
            } else {
                pending[index] = max(0, pending[index] - dt)
            }
        }
        if let suspect, suspect != state, pending[Self.index(suspect)] >= settings.hold {
            let began = pendingSince[Self.index(suspect)]
            let change = TamperChange(
                state: suspect, previous: state, confidence: confidence(suspect, measurement), measurement: measurement,
                frame: frame, time: time, startFrame: began.frame, startTime: began.time)
            if state == nil { since = time }
            if suspect == .moved { movedSince = time }
            state = suspect
            rightFor = 0
            return change
        }
        guard let current = state else {
            if pending.allSatisfy({ $0 == 0 }) {
                blend(smooth, into: &reference, rate: Float(dt / (dt + settings.relearn)))
            }
            return nil
        }
        // Turned for good: the view it shows now is the one to guard from here on.
        if current == .moved, settings.acceptMovedAfter > 0, suspect == .moved,
            time - movedSince >= settings.acceptMovedAfter
        {
            state = nil
            rightFor = 0
            pending = [0, 0, 0]
            blend(smooth, into: &reference, rate: 1)
            return TamperChange(
                state: nil, previous: .moved, confidence: confidence(.moved, measurement), measurement: measurement,
                frame: frame, time: time, duration: time - since, reason: .accepted)
        }
        // Cleared only with some margin past every threshold, so a view near one does not flap.
        rightFor = classify(measurement, margin: 1.3) == nil ? rightFor + dt : max(0, rightFor - dt)
        guard rightFor >= settings.hold else { return nil }
        state = nil
        rightFor = 0
        pending = [0, 0, 0]
        blend(smooth, into: &reference, rate: 1)
        return TamperChange(
            state: nil, previous: current, confidence: clearedConfidence(current, measurement),
            measurement: measurement, frame: frame, time: time, duration: time - since)
    }

    private static func index(_ state: TamperState) -> Int { TamperState.allCases.firstIndex(of: state)! }

    /// The class of a frame; `margin` > 1 makes every test stricter about what is right (for clearing).
    private func classify(_ m: TamperMeasurement, margin: Double) -> TamperState? {
        if m.contrast < settings.coveredContrast * margin { return .covered }
        if m.sharpness < settings.defocusSharpness * margin { return .defocus }
        // The correlation's margin is taken towards 1, its ceiling.
        let correlation = 1 - (1 - settings.movedCorrelation) / margin
        if m.correlation < correlation { return .moved }
        return nil
    }

    private func value(_ state: TamperState, _ m: TamperMeasurement) -> Double {
        switch state {
        case .covered: m.contrast
        case .defocus: m.sharpness
        case .moved: m.correlation
        }
    }

    private func limit(_ state: TamperState) -> Double {
        switch state {
        case .covered: settings.coveredContrast
        case .defocus: settings.defocusSharpness
        case .moved: settings.movedCorrelation
        }
    }

    /// 0.5 at the threshold, 1 at zero.
    private func confidence(_ state: TamperState, _ m: TamperMeasurement) -> Double {
        let limit = limit(state)
        return 0.5 + 0.5 * min(1, max(0, (limit - value(state, m)) / limit))
    }

    /// 0.5 at the threshold, 1 at twice it (or at 1 for the correlation).
    private func clearedConfidence(_ state: TamperState, _ m: TamperMeasurement) -> Double {
        let limit = limit(state)
        let range = state == .moved ? 1 - limit : limit
        return 0.5 + 0.5 * min(1, max(0, (value(state, m) - limit) / range))
    }

    private func copy(_ source: UnsafeBufferPointer<Float>, into target: inout [Float]) {
        let count = self.count
        target.withUnsafeMutableBufferPointer { target in
            for index in 0..<count { target[index] = source[index] }
        }
    }

    private func blend(_ source: [Float], into target: inout [Float], rate: Float) {
        source.withUnsafeBufferPointer { blend($0, into: &target, rate: rate) }
    }

    /// `target += (source − target) × rate`, over the grid's cells.
    private func blend(_ source: UnsafeBufferPointer<Float>, into target: inout [Float], rate: Float) {
        target.withUnsafeMutableBufferPointer { $0.blend(toward: source, count: count, rate: rate) }
    }

    /// Contrast, sharpness and correlation of the smoothed view against the reference, in one pass over both;
    /// `nil` when the reference has too little contrast to be judged against.
    private func measure() -> TamperMeasurement? {
        guard cellCount >= 16, gradientCount >= 16 else { return nil }
        let columns = self.columns
        var sums = (
            view: SIMD8<Float>(), viewSquares: SIMD8<Float>(), reference: SIMD8<Float>(),
            referenceSquares: SIMD8<Float>(), viewGradient: SIMD8<Float>(), referenceGradient: SIMD8<Float>(),
            cross: SIMD8<Float>()
        )
        // Sums of squares are taken around last frame's means, so that Float keeps the variance of a flat view.
        let viewShift = SIMD8<Float>(repeating: shift)
        let referenceShift = SIMD8<Float>(repeating: self.referenceShift)
        smooth.withUnsafeBufferPointer { view in
            reference.withUnsafeBufferPointer { reference in
                weight.withUnsafeBufferPointer { weight in
                    weightX.withUnsafeBufferPointer { weightX in
                        weightY.withUnsafeBufferPointer { weightY in
                            let v = UnsafeRawPointer(view.baseAddress!)
                            let r = UnsafeRawPointer(reference.baseAddress!)
                            let w = UnsafeRawPointer(weight.baseAddress!)
                            let wx = UnsafeRawPointer(weightX.baseAddress!)
                            let wy = UnsafeRawPointer(weightY.baseAddress!)
                            let right = 4
                            let below = columns * 4
                            var offset = 0
                            while offset < count * 4 {
                                let vv = v.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                let rv = r.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                let wv = w.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                let wxv = wx.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                let wyv = wy.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                let vc = (vv - viewShift) * wv
                                let rc = (rv - referenceShift) * wv
                                sums.view += vc
                                sums.viewSquares += vc * vc
                                sums.reference += rc
                                sums.referenceSquares += rc * rc
                                let gx =
                                    (v.loadUnaligned(fromByteOffset: offset + right, as: SIMD8<Float>.self) - vv) * wxv
                                let gy =
                                    (v.loadUnaligned(fromByteOffset: offset + below, as: SIMD8<Float>.self) - vv) * wyv
                                let hx =
                                    (r.loadUnaligned(fromByteOffset: offset + right, as: SIMD8<Float>.self) - rv) * wxv
                                let hy =
                                    (r.loadUnaligned(fromByteOffset: offset + below, as: SIMD8<Float>.self) - rv) * wyv
                                sums.viewGradient += gx * gx + gy * gy
                                sums.referenceGradient += hx * hx + hy * hy
                                sums.cross += gx * hx + gy * hy
                                offset += 32
                            }
                        }
                    }
                }
            }
        }
        let n = Double(cellCount)
        let viewMean = Double(sums.view.sum()) / n
        let referenceMean = Double(sums.reference.sum()) / n
        let viewVariance = max(0, Double(sums.viewSquares.sum()) / n - viewMean * viewMean)
        let referenceVariance = max(0, Double(sums.referenceSquares.sum()) / n - referenceMean * referenceMean)
        shift += Float(viewMean)
        self.referenceShift += Float(referenceMean)
        let viewGradient = Double(sums.viewGradient.sum())
        let referenceGradient = Double(sums.referenceGradient.sum())
        let floor = Double(Self.minimumContrast * Self.minimumContrast)
        guard referenceVariance >= floor, referenceGradient > 0 else { return nil }
        let contrast = (viewVariance / referenceVariance).squareRoot()
        let sharpness =
            viewVariance > 0
            ? (viewGradient / viewVariance) / (referenceGradient / referenceVariance) : 0
        let correlation =
            viewGradient > 0 ? Double(sums.cross.sum()) / (viewGradient * referenceGradient).squareRoot() : 0
        return TamperMeasurement(
            contrast: contrast, sharpness: sharpness, correlation: correlation, luma: Double(shift))
    }
}
