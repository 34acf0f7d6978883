/// The rules that follow things over time rather than judge one frame: line crossings and wrong way (`[[line]]`),
/// and abandoned objects (`[abandoned]`). One per camera, fed once per frame after the motion detector.
///
/// It tracks the detector's regions (`RegionTracker`) and watches the tracks' foot points against the lines
/// (`LineRule`, `LineCrossingDetector`), and keeps its own slow reference of the scene on the detector's grid for
/// abandoned objects (`AbandonedObjectDetector`). It sees only what the detector saw: masked cells are blank and
/// are left out of the grid work, and boxes never reach into a mask. Nothing is identified: a track is a box that
/// moved, followed by overlap and distance. With no line configured it does not track at all; with `[abandoned]`
/// off it does not look at the grid.
///
/// Buffers are allocated at `init`; `update` allocates only the alerts it returns (none on a quiet frame).
public final class ObjectRules {
    public let lines: [LineRule]
    public let abandoned: AbandonedSettings
    /// The tracks, for review (`vigie analyze`) and tests.
    public let tracker: RegionTracker
    private let crossings: LineCrossingDetector?
    private let objects: AbandonedObjectDetector?
    private var alerts: [RuleAlert] = []

    /// - Parameters:
    ///   - configuration: its `lines` and `abandoned`; the motion sensitivity sets what counts as a difference for
    ///     abandoned objects.
    ///   - columns, rows, cellSize: the motion detector's grid (`MotionDetector.columns`, `rows`, `cellSize`).
    ///   - mask: the raster applied to the frames; its geometry is the frames'.
    public init(configuration: Configuration, columns: Int, rows: Int, cellSize: Int, mask: MaskRaster) {
        lines = configuration.lines
        abandoned = configuration.abandoned
        tracker = RegionTracker()
        let aspect = Double(mask.geometry.width) / Double(mask.geometry.height)
        crossings =
            lines.isEmpty ? nil : LineCrossingDetector(lines: lines, aspect: aspect, capacity: tracker.capacity)
        objects =
            abandoned.enabled
            ? AbandonedObjectDetector(
                columns: columns, rows: rows, cellSize: cellSize, mask: mask, settings: abandoned,
                threshold: MotionSettings.threshold(sensitivity: configuration.motion.sensitivity)) : nil
        alerts.reserveCapacity(8)
    }

    /// For the rules of `configuration` on the frames `detector` looks at.
    public convenience init(configuration: Configuration, detector: MotionDetector, mask: MaskRaster) {
        self.init(
            configuration: configuration, columns: detector.columns, rows: detector.rows, cellSize: detector.cellSize,
            mask: mask)
    }

    /// Whether there is anything to do (a line, or `[abandoned]` on).
    public var isActive: Bool { crossings != nil || objects != nil }

    /// Takes one frame's result from the motion detector.
    ///
    /// - Parameters:
    ///   - boxes: the detector's regions (`MotionDetector.boxes`) for this frame.
    ///   - grid: its grid of cell means for this frame (`columns × rows`, row-major), as `MotionDetector` lends it.
    ///   - frame, time: the frame's sequence number and time in seconds (the frames' clock, increasing).
    /// - Returns: the alerts this frame decided: crossings (one per crossing, on the frame the foot point was
    ///   clearly across), abandoned objects when their time is up, and their clearing.
    public func update(boxes: [MotionBox], grid: UnsafeBufferPointer<Float>, frame: Int, time: Double) -> [RuleAlert] {
        alerts.removeAll(keepingCapacity: true)
        if let crossings {
            tracker.update(boxes: boxes, frame: frame, time: time)
            crossings.update(tracker: tracker, frame: frame, time: time, into: &alerts)
        }
        objects?.update(grid: grid, frame: frame, time: time, into: &alerts)
        return alerts
    }

    /// Forgets the tracks and the abandoned-object reference (after a camera reconnect or a reload): the scene in
    /// view when frames come back is the new reference, and nothing in progress is reported.
    public func reset() {
        tracker.reset()
        crossings?.reset()
        objects?.reset()
    }
}
