/// The per-frame path of a camera: privacy mask, then motion detection, then event tracking and tamper detection.
///
/// The mask is applied first and in place, so detection and everything after it only ever see a
/// `MaskedFrame`. Tamper detection reads the motion detector's reduced grid, not the frame again. Rasters and
/// buffers are built once for the geometry.
public final class FramePipeline {
    public let geometry: FrameGeometry
    public let raster: MaskRaster
    public let detector: MotionDetector
    /// `nil` when `[tamper] enabled` is false.
    public let tamper: TamperDetector?
    /// The tamper state change the last frame decided, if any.
    public private(set) var tamperChange: TamperChange?
    private var tracker: MotionEventTracker

    /// - Parameters:
    ///   - previous: the pipeline this one replaces (a reload, a camera back at another size), if any: its tamper
    ///     reference and state are carried over when the grid and masks allow; otherwise a tampering in progress
    ///     there is over, and `tamperChange` holds its clearing, with `reason`, to report before the first frame.
    public init(
        configuration: Configuration, geometry: FrameGeometry, replacing previous: FramePipeline? = nil,
        reason: TamperChange.Reason = .reload
    ) {
        self.geometry = geometry
        self.raster = configuration.mask.raster(for: geometry)
        self.detector = MotionDetector(
            geometry: geometry, mask: raster, settings: configuration.motion, zones: configuration.zones)
        self.tracker = MotionEventTracker(
            zoneNames: detector.zones.map(\.name), minimumFrames: configuration.motion.minimumFrames,
            endFrames: configuration.motion.endFrames)
        self.tamper =
            configuration.tamper.enabled
            ? TamperDetector(
                columns: detector.columns, rows: detector.rows, cell: detector.cellSize, mask: raster,
                settings: configuration.tamper) : nil
        if let old = previous?.tamper, tamper?.carry(from: old) != true {
            tamperChange = old.abandon(reason: reason)
        }
    }

    /// Masks `frame` in place, looks for motion and tampering, and lends the masked frame with the event updates to
    /// `body` (to encode a snapshot of it, for instance) before the frame goes back to its source. A change of the
    /// tamper state is in `tamperChange` meanwhile.
    public func process(
        _ frame: Frame, _ body: (borrowing MaskedFrame, [MotionEventTracker.Update]) throws -> Void
    ) rethrows {
        try raster.apply(to: frame) { masked in
            detector.detect(masked)
            let updates = tracker.update(frame: masked.sequence, time: masked.timestamp, boxes: detector.boxes)
            tamperChange = nil
            if let tamper {
                let frame = masked.sequence
                let time = masked.timestamp
                tamperChange = detector.withGrid { tamper.update(grid: $0, frame: frame, time: time) }
            }
            try body(masked, updates)
        }
    }

    /// Masks `frame` in place and looks for motion; returns the event updates.
    @discardableResult
    public func process(_ frame: Frame) -> [MotionEventTracker.Update] {
        var result: [MotionEventTracker.Update] = []
        process(frame) { _, updates in result = updates }
        return result
    }

    /// Whether an event is in progress.
    public var hasActiveEvent: Bool { tracker.isActive }

    /// Re-learns the background after a gap in the frames (a camera reconnect): no motion from the first frames
    /// back. The tamper reference and a tampering in progress are kept (`TamperDetector.resume()`): the camera is
    /// judged against the view it had, so one plugged back covered is still covered.
    public func restart() -> [MotionEventTracker.Update] {
        detector.reset()
        tamper?.resume()
        tamperChange = nil
        return tracker.finish()
    }

    /// Ends events in progress at the end of a stream.
    public func finish() -> [MotionEventTracker.Update] { tracker.finish() }
}
