/// Finds objects left behind: a region that appears and then stays still, where the scene had nothing, for longer
/// than `[abandoned] seconds`; and tells when it goes.
///
/// The motion detector cannot say this by itself: its background follows the scene at `learning_rate`, so a still
/// object melts into it within a minute and stops being motion. This detector keeps its own, slow reference of the
/// empty scene on the same grid of cell means, and compares a lightly smoothed view with it:
/// - **view** `S`: the grid smoothed over about half a second (sensor noise and rain average out);
/// - **reference** `L`: `S` as it was over the first two seconds (so whatever is there at start-up is part of the
///   scene and never reported), then following `S` with a time constant of 30 s — but only in cells that match it.
///   A cell that differs is never learnt, so an object never melts into the reference, however long it stays;
/// - **light**: the view is compared with `gain × L`, the gain being the ratio of view to reference over the cells
///   that agree (two passes, as the motion detector does), so dusk, a lamp switched on or a cloud change nothing. If
///   more than half of the cells differ even so (the infrared switch), the reference is taken afresh from the view
///   over two seconds and nothing is reported meanwhile.
///
/// A cell is *foreground* when its view differs from `gain × L` by more than the motion threshold, and *still*
/// while the frame's own cell mean stays within half that threshold of the view. A foreground cell's clock starts
/// when it is first still, keeps running through short movement (someone walking past the object: up to 1 s in all
/// without being still), and stops when the cell matches the reference again. Cells whose clock passed `seconds`
/// are grouped with the still foreground cells around them into 8-connected regions; a region at least two thirds
/// ripe (the whole thing has stopped, not only the back of a car still parking) and between `min_area` and
/// `max_area` is reported, unless it is a
/// *ghost*: where something present in the reference has left (a car parked at start-up that drives off), the
/// region's outline has more contrast in the reference than in the view, and such a region is learnt into the
/// reference at once instead. A person standing still and leaving before `seconds` stops the clock; a car too big
/// for `max_area` is never reported, nor is what is left of it in view while it drives off (its cells are set aside
/// until they match the reference again).
///
/// A reported object keeps its cells: it is cleared when fewer than 30 % of them still differ from the reference for
/// a second. Everything here takes seconds, so frames are looked at about five times a second (`interval`), not
/// every frame. A look goes over the grid eight cells at a time (`SIMD8`): in a block where nothing is being timed
/// or owned and nothing differs, all there is to do is the reference's following, and only the other blocks are
/// looked at cell by cell. Cells touching a privacy mask are blank and take no part in anything. Memory is
/// allocated at `init`; `update` allocates only the alerts it raises.
final class AbandonedObjectDetector {
    let settings: AbandonedSettings
    private let columns: Int
    private let rows: Int
    private let count: Int
    private let cellWidth: Double
    private let cellHeight: Double
    private let cellArea: Double
    /// Grey levels between view and reference that make a cell foreground.
    private let threshold: Float
    // Per-cell state lives in buffers owned by the detector (allocated at `init`, freed at `deinit`): the per-frame
    // passes over them then cost no exclusivity or bounds checks.
    private let valid: UnsafeMutableBufferPointer<Bool>
    /// Per cell: 1 where `valid`, else 0 (for the passes eight cells at a time).
    private let weight: UnsafeMutableBufferPointer<Float>
    private let validCount: Int
    /// Per block of eight cells (`count / 8` whole blocks; the last few cells are always looked at one by one):
    /// no cell in it has a clock running or an owner. Set only after a look found it so (or by a reset); anything
    /// that starts a clock or gives an owner happens in a look at the cells themselves, which clears it.
    private let quiet: UnsafeMutableBufferPointer<Bool>
    private let view: UnsafeMutableBufferPointer<Float>
    private let reference: UnsafeMutableBufferPointer<Float>
    /// Per cell: the time its clock started, or −1.
    private let stillSince: UnsafeMutableBufferPointer<Double>
    /// Per cell: seconds spent foreground and not still since the clock started.
    private let unsteady: UnsafeMutableBufferPointer<Float>
    /// Per cell: the index of the reported object it belongs to, `tooLarge`, or −1.
    private let owner: UnsafeMutableBufferPointer<Int16>
    private let labels: UnsafeMutableBufferPointer<Int32>
    private let stack: UnsafeMutableBufferPointer<Int32>
    private var objects: [ActiveObject]
    private var lastTime: Double?
    private var lastFrame = 0
    private var learnt = 0.0
    private var settling = 0.0
    /// Seconds per frame, followed from the frames' times (to name the frame an object's clock started).
    private var frameTime = 0.0

    /// An object reported and not yet cleared.
    struct ActiveObject {
        var used = false
        var cells = 0
        var present = 0
        var goneFor = 0.0
        var rect = NormalizedRect(x: 0, y: 0, width: 0, height: 0)
        var startFrame = 0
        var startTime = 0.0
    }

    /// `owner` of a cell that was part of a still region above `max_area`, until it matches the reference again.
    static let tooLarge: Int16 = -2
    /// Least time between two frames looked at, seconds (frames in between are skipped).
    static let interval = 0.19
    /// Seconds the first reference is learnt over, and re-learnt over after a global change.
    static let learning = 2.0
    /// Time constant of the view's smoothing, seconds.
    static let smoothing = 0.5
    /// Time constant of the reference's following of the scene where it matches, seconds.
    static let following = 30.0
    /// Seconds of movement a foreground cell's clock tolerates.
    static let unsteadyLimit: Float = 1
    /// Share of its cells under which an object is gone, and for how long.
    static let goneShare = 0.3
    static let goneHold = 1.0
    /// Most objects reported at once.
    static let capacity = 16

    /// - Parameters:
    ///   - columns, rows, cellSize: the motion detector's grid and its cells' side in pixels.
    ///   - mask: the raster applied to the frames (its geometry is the frames'); cells touching it are left out.
    ///   - threshold: grey levels of a cell mean that count as a difference (the motion detector's threshold).
    init(
        columns: Int, rows: Int, cellSize: Int, mask: MaskRaster, settings: AbandonedSettings, threshold: Float
    ) {
        self.settings = settings
        self.columns = columns
        self.rows = rows
        let count = columns * rows
        self.count = count
        let width = Double(mask.geometry.width)
        let height = Double(mask.geometry.height)
        cellWidth = Double(cellSize) / width
        cellHeight = Double(cellSize) / height
        cellArea = Double(cellSize * cellSize) / (width * height)
        self.threshold = threshold
        let valid = Self.buffer(count, true)
        let luma = mask.luma
        for y in 0..<luma.height {
            for k in Int(luma.rowStart[y])..<Int(luma.rowStart[y + 1]) {
                let first = Int(luma.spans[2 * k]) / cellSize
                let last = (Int(luma.spans[2 * k + 1]) - 1) / cellSize
                for gx in first...last { valid[(y / cellSize) * columns + gx] = false }
            }
        }
        self.valid = valid
        validCount = valid.reduce(0) { $0 + ($1 ? 1 : 0) }
        weight = Self.buffer(count, 0)
        for index in 0..<count where valid[index] { weight[index] = 1 }
        quiet = Self.buffer(count / 8, true)
        view = Self.buffer(count, 0)
        reference = Self.buffer(count, 0)
        stillSince = Self.buffer(count, -1)
        unsteady = Self.buffer(count, 0)
        owner = Self.buffer(count, -1)
        labels = Self.buffer(count, 0)
        stack = Self.buffer(count, 0)
        objects = [ActiveObject](repeating: ActiveObject(), count: Self.capacity)
    }

    deinit {
        valid.deallocate()
        weight.deallocate()
        quiet.deallocate()
        view.deallocate()
        reference.deallocate()
        stillSince.deallocate()
        unsteady.deallocate()
        owner.deallocate()
        labels.deallocate()
        stack.deallocate()
    }

    private static func buffer<Element>(_ count: Int, _ value: Element) -> UnsafeMutableBufferPointer<Element> {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(1, count))
        buffer.initialize(repeating: value)
        return buffer
    }

    /// Forgets the reference and every object (after a camera reconnect or a reload): what is in view when frames
    /// come back is the scene. An object in progress is forgotten without a clearing.
    func reset() {
        lastTime = nil
        learnt = 0
        settling = 0
        frameTime = 0
        for index in 0..<count {
            stillSince[index] = -1
            unsteady[index] = 0
            owner[index] = -1
        }
        for index in objects.indices { objects[index].used = false }
        quiet.update(repeating: true)
    }

    /// Takes the next frame's grid (`columns × rows` cell means).
    func update(grid: UnsafeBufferPointer<Float>, frame: Int, time: Double, into alerts: inout [RuleAlert]) {
        precondition(grid.count >= count, "grid smaller than the detector's")
        // Everything here takes seconds: five looks a second are plenty, and cost a third of looking at every frame
        // at 15 frames per second.
        if let lastTime, time - lastTime < Self.interval && time >= lastTime { return }
        let dt = lastTime.map { min(1, max(0, time - $0)) } ?? 0
        if dt > 0 && frame > lastFrame {
            let perFrame = dt / Double(frame - lastFrame)
            frameTime = frameTime == 0 ? perFrame : frameTime + (perFrame - frameTime) * 0.05
        }
        lastTime = time
        lastFrame = frame
        if learnt == 0 {
            for index in 0..<count {
                view[index] = grid[index]
                reference[index] = grid[index]
            }
            learnt = Double.ulpOfOne
            return
        }
        view.blend(toward: grid, count: count, rate: Float(dt / (dt + Self.smoothing)))
        if learnt < Self.learning || settling > 0 {
            learnt += dt
            settling = max(0, settling - dt)
            for index in 0..<count where owner[index] < 0 {
                reference[index] = view[index]
                stillSince[index] = -1
                unsteady[index] = 0
            }
            return
        }
        let gain = estimateGain()
        let beta = Float(dt / (dt + Self.following))
        let stillLimit = threshold / 2
        var foreground = 0
        var ripe = 0
        for index in objects.indices { objects[index].present = 0 }
        let blocks = count / 8
        let grid = UnsafeRawPointer(grid.baseAddress!)
        let viewBytes = UnsafeRawPointer(view.baseAddress!)
        let referenceBytes = UnsafeMutableRawPointer(reference.baseAddress!)
        let weightBytes = UnsafeRawPointer(weight.baseAddress!)
        let gains = SIMD8<Float>(repeating: gain)
        let thresholds = SIMD8<Float>(repeating: threshold)
        let stillLimits = SIMD8<Float>(repeating: stillLimit)
        let betas = SIMD8<Float>(repeating: beta)
        for block in 0..<blocks {
            let first = block * 8
            if quiet[block] {
                // Nothing timed or owned here: if nothing differs either, the reference follows where it is still.
                let s = viewBytes.loadUnaligned(fromByteOffset: first * 4, as: SIMD8<Float>.self)
                let r = referenceBytes.loadUnaligned(fromByteOffset: first * 4, as: SIMD8<Float>.self)
                let w = weightBytes.loadUnaligned(fromByteOffset: first * 4, as: SIMD8<Float>.self)
                let difference = s - gains * r
                if !any(((difference .> thresholds) .| (difference .< -thresholds)) .& (w .> 0)) {
                    let motion = grid.loadUnaligned(fromByteOffset: first * 4, as: SIMD8<Float>.self) - s
                    var step = (s / gains - r) * betas * w
                    step.replace(with: 0, where: (motion .> stillLimits) .| (motion .< -stillLimits))
                    referenceBytes.storeBytes(of: r + step, toByteOffset: first * 4, as: SIMD8<Float>.self)
                    continue
                }
            }
            var settled = true
            for index in first..<first + 8 {
                look(
                    at: index, grid: grid, gain: gain, beta: beta, stillLimit: stillLimit, dt: dt, time: time,
                    foreground: &foreground, ripe: &ripe)
                if stillSince[index] >= 0 || owner[index] != -1 { settled = false }
            }
            quiet[block] = settled
        }
        for index in blocks * 8..<count {
            look(
                at: index, grid: grid, gain: gain, beta: beta, stillLimit: stillLimit, dt: dt, time: time,
                foreground: &foreground, ripe: &ripe)
        }
        if Double(foreground) > 0.5 * Double(validCount) {
            // Not objects: the view changed as a whole in a way the gain does not explain (the infrared switch).
            settling = Self.learning
            return
        }
        for index in objects.indices where objects[index].used {
            clearIfGone(index, dt: dt, frame: frame, time: time, into: &alerts)
        }
        if ripe > 0 { findObjects(gain: gain, frame: frame, time: time, into: &alerts) }
    }

    /// One cell's part of a look (see the type's description), for cells in blocks that are not quiet.
    @inline(__always)
    private func look(
        at index: Int, grid: UnsafeRawPointer, gain: Float, beta: Float, stillLimit: Float, dt: Double, time: Double,
        foreground: inout Int, ripe: inout Int
    ) {
        guard valid[index] else { return }
        let sample = grid.load(fromByteOffset: index * 4, as: Float.self)
        let s = view[index]
        let isForeground = abs(s - gain * reference[index]) > threshold
        let isStill = abs(sample - s) <= stillLimit
        let object = Int(owner[index])
        guard isForeground else {
            stillSince[index] = -1
            unsteady[index] = 0
            if object == Int(Self.tooLarge) { owner[index] = -1 }
            if isStill && object < 0 { reference[index] += (s / gain - reference[index]) * beta }
            return
        }
        foreground += 1
        if object >= 0 {
            objects[object].present += 1
            return
        }
        if object == Int(Self.tooLarge) { return }
        if stillSince[index] < 0 {
            if isStill { stillSince[index] = time }
        } else if !isStill {
            unsteady[index] += Float(dt)
            if unsteady[index] > Self.unsteadyLimit {
                stillSince[index] = -1
                unsteady[index] = 0
            }
        }
        if stillSince[index] >= 0 && time - stillSince[index] >= settings.seconds { ripe += 1 }
    }

    private func clearIfGone(_ index: Int, dt: Double, frame: Int, time: Double, into alerts: inout [RuleAlert]) {
        let object = objects[index]
        let share = Double(object.present) / Double(max(1, object.cells))
        objects[index].goneFor = share < Self.goneShare ? object.goneFor + dt : 0
        guard objects[index].goneFor >= Self.goneHold else { return }
        objects[index].used = false
        for cell in 0..<count where owner[cell] == Int16(index) {
            owner[cell] = -1
            stillSince[cell] = -1
            unsteady[cell] = 0
        }
        alerts.append(
            RuleAlert(
                kind: .abandonedCleared, rule: "abandoned", boxes: [object.rect],
                confidence: 0.5 + 0.5 * min(1, max(0, (Self.goneShare - share) / Self.goneShare)),
                startFrame: object.startFrame, startTime: object.startTime, frame: frame, time: time, object: index))
    }

    /// Groups still foreground cells around ripe ones into regions; reports the new ones that are ripe as a whole, of
    /// the right size, and not ghosts.
    private func findObjects(gain: Float, frame: Int, time: Double, into alerts: inout [RuleAlert]) {
        for index in 0..<count { labels[index] = 0 }
        var nextLabel: Int32 = 0
        for start in 0..<count where isRipe(start, time: time) && labels[start] == 0 {
            nextLabel += 1
            let label = nextLabel
            labels[start] = label
            stack[0] = Int32(start)
            var top = 1
            var cells = 0
            var ripeCells = 0
            var minX = columns
            var maxX = -1
            var minY = rows
            var maxY = -1
            var earliest = time
            var touching = -1
            // Contrast across the region's outline, in the view and in the (light-corrected) reference.
            var outlineView: Float = 0
            var outlineReference: Float = 0
            var contrast: Float = 0
            // The stack doubles as the list of the region's cells: popped entries stay below `filled`.
            var filled = 0
            while filled < top {
                let index = Int(stack[filled])
                filled += 1
                let x = index % columns
                let y = index / columns
                cells += 1
                if isRipe(index, time: time) { ripeCells += 1 }
                minX = min(minX, x)
                maxX = max(maxX, x)
                minY = min(minY, y)
                maxY = max(maxY, y)
                earliest = min(earliest, stillSince[index])
                contrast += abs(view[index] - gain * reference[index])
                for dy in -1...1 {
                    let ny = y + dy
                    guard ny >= 0, ny < rows else { continue }
                    for dx in -1...1 {
                        let nx = x + dx
                        guard nx >= 0, nx < columns, dx != 0 || dy != 0 else { continue }
                        let neighbour = ny * columns + nx
                        if owner[neighbour] >= 0 { touching = Int(owner[neighbour]) }
                        if labels[neighbour] == 0 && isPending(neighbour) {
                            labels[neighbour] = label
                            stack[top] = Int32(neighbour)
                            top += 1
                        } else if labels[neighbour] != label && (dx == 0 || dy == 0) && valid[neighbour] {
                            outlineView += abs(view[index] - view[neighbour])
                            outlineReference += gain * abs(reference[index] - reference[neighbour])
                        }
                    }
                }
            }
            if touching >= 0 {
                // More of an object already reported (its edges ripened later): it joins it.
                for k in 0..<top { owner[Int(stack[k])] = Int16(touching) }
                objects[touching].cells += top
                continue
            }
            let area = Double(cells) * cellArea
            // The whole still thing must be ripe, not the first part of it to stop (the back of a car that parked):
            // its size is the size of the whole.
            guard 3 * ripeCells >= 2 * cells else { continue }
            guard area <= settings.maximumArea else {
                // Too big to be an object left behind (a car parked): so are its parts, when it drives off and what
                // is left of it in view shrinks, until each cell is the scene again.
                for k in 0..<top { owner[Int(stack[k])] = Self.tooLarge }
                continue
            }
            guard area >= settings.minimumArea else { continue }
            guard outlineView > outlineReference else {
                // A ghost: the reference held something that has gone. The view there is the scene.
                for k in 0..<top {
                    let index = Int(stack[k])
                    reference[index] = view[index] / gain
                    stillSince[index] = -1
                    unsteady[index] = 0
                }
                continue
            }
            guard let slot = objects.firstIndex(where: { !$0.used }) else { continue }
            for k in 0..<top { owner[Int(stack[k])] = Int16(slot) }
            let rect = NormalizedRect(
                x: Double(minX) * cellWidth, y: Double(minY) * cellHeight,
                width: min(1, Double(maxX + 1) * cellWidth) - Double(minX) * cellWidth,
                height: min(1, Double(maxY + 1) * cellHeight) - Double(minY) * cellHeight)
            let startFrame = frame - Int(((time - earliest) / max(1e-6, frameTime)).rounded())
            objects[slot] = ActiveObject(
                used: true, cells: cells, present: cells, goneFor: 0, rect: rect, startFrame: startFrame,
                startTime: earliest)
            // 0.5 at the threshold, 1 at three times it.
            let excess = (contrast / Float(cells) - threshold) / (2 * threshold)
            alerts.append(
                RuleAlert(
                    kind: .abandonedObject, rule: "abandoned", boxes: [rect],
                    confidence: 0.5 + 0.5 * Double(min(1, max(0, excess))), startFrame: startFrame,
                    startTime: earliest, frame: frame, time: time, object: slot))
        }
    }

    private func isRipe(_ index: Int, time: Double) -> Bool {
        isPending(index) && time - stillSince[index] >= settings.seconds
    }

    /// Foreground, still (its clock running) and not part of an object already reported.
    private func isPending(_ index: Int) -> Bool { valid[index] && owner[index] == -1 && stillSince[index] >= 0 }

    /// Ratio of view to reference over the cells that agree with a first estimate (as `MotionDetector` does).
    /// Saturated and near-black reference cells say nothing about gain.
    private func estimateGain() -> Float {
        let first = gainSums(agreeingWith: nil)
        guard first.reference > 0 else { return 1 }
        let second = gainSums(agreeingWith: first.view / first.reference)
        let gain = second.reference > 0 ? second.view / second.reference : first.view / first.reference
        return min(8, max(0.125, gain))
    }

    /// Sums of view and reference over the valid cells with a usable reference, and, given `estimate`, whose view
    /// is within `threshold` of `estimate ×` reference.
    private func gainSums(agreeingWith estimate: Float?) -> (view: Float, reference: Float) {
        let viewBytes = UnsafeRawPointer(view.baseAddress!)
        let referenceBytes = UnsafeRawPointer(reference.baseAddress!)
        let weightBytes = UnsafeRawPointer(weight.baseAddress!)
        let low = SIMD8<Float>(repeating: 8)
        let high = SIMD8<Float>(repeating: 247)
        let gains = SIMD8<Float>(repeating: estimate ?? 1)
        let limits = SIMD8<Float>(repeating: estimate == nil ? .infinity : threshold)
        var sumView = SIMD8<Float>()
        var sumReference = SIMD8<Float>()
        let whole = count / 8 * 8
        var offset = 0
        while offset < whole * 4 {
            let v = viewBytes.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let r = referenceBytes.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            var w = weightBytes.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let residual = v - gains * r
            w.replace(with: 0, where: (r .<= low) .| (r .>= high) .| (residual .>= limits) .| (residual .<= -limits))
            sumView += v * w
            sumReference += r * w
            offset += 32
        }
        var totalView = sumView.sum()
        var totalReference = sumReference.sum()
        for index in whole..<count where valid[index] && reference[index] > 8 && reference[index] < 247 {
            if let estimate, abs(view[index] - estimate * reference[index]) >= threshold { continue }
            totalView += view[index]
            totalReference += reference[index]
        }
        return (totalView, totalReference)
    }
}
