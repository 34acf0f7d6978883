/// The per-frame path of a camera: privacy mask, then motion detection, then event tracking, the rules and tamper
/// detection.
///
/// The mask is applied first and in place, so detection and everything after it only ever see a
/// `MaskedFrame`. The rules read the detector's regions and changed cells, and tamper detection its reduced grid,
/// not the frame again. Rasters and buffers are built once for the geometry.
public final class FramePipeline {
    public let geometry: FrameGeometry
    public let raster: MaskRaster
    public let detector: MotionDetector
    /// `nil` when `[tamper] enabled` is false.
    public let tamper: TamperDetector?
    /// The tamper state change the last frame decided, if any.
    public private(set) var tamperChange: TamperChange?
    /// The zone and crowd rules, then lines and abandoned objects (`ObjectRules`); more sources plug in with
    /// `rules.add`.
    public let rules: RuleEngine
    /// The alerts the last frame decided (none while disarmed).
    public private(set) var ruleAlerts: [RuleAlert] = []
    /// The ends of raised zone and crowd situations the last frame decided, for review (`vigie analyze`): the unit
    /// sends nothing for them.
    public var ruleEnds: [RuleEnd] { rules.ends }
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
            geometry: geometry, mask: raster, settings: configuration.motion,
            zones: configuration.zones.filter { $0.kind == .motion })
        self.tracker = MotionEventTracker(
            zoneNames: detector.zones.map(\.name), minimumFrames: configuration.motion.minimumFrames,
            endFrames: configuration.motion.endFrames)
        self.tamper =
            configuration.tamper.enabled
            ? TamperDetector(
                columns: detector.columns, rows: detector.rows, cell: detector.cellSize, mask: raster,
                settings: configuration.tamper) : nil
        self.rules = RuleEngine(zones: configuration.zones, crowd: configuration.crowd, detector: detector)
        // Rules that follow regions over time (lines, wrong way, abandoned objects) run after the zone rules,
        // armed and reset with them.
        let objects = ObjectRules(configuration: configuration, detector: detector, mask: raster)
        if objects.isActive { rules.add(ObjectRuleSource(rules: objects, detector: detector)) }
        if let old = previous?.tamper, tamper?.carry(from: old) != true {
            tamperChange = old.abandon(reason: reason)
        }
    }

    /// Masks `frame` in place, looks for motion, runs the rules and looks for tampering, and lends the masked frame
    /// with the event updates to `body` (to encode a snapshot of it, for instance) before the frame goes back to its
    /// source. The rules' alerts are in `ruleAlerts` and a change of the tamper state in `tamperChange` meanwhile.
    ///
    /// - Parameters:
    ///   - armed: false while the unit is disarmed: no rule runs or raises anything (tamper still runs).
    ///   - localTime: the frame's local wall-clock time, for the zones' schedules; `nil` arms every zone.
    public func process(
        _ frame: Frame, armed: Bool = true, localTime: LocalTime? = nil,
        _ body: (borrowing MaskedFrame, [MotionEventTracker.Update]) throws -> Void
    ) rethrows {
        try raster.apply(to: frame) { masked in
            detector.detect(masked)
            let updates = tracker.update(frame: masked.sequence, time: masked.timestamp, boxes: detector.boxes)
            if rules.isEmpty {
                ruleAlerts = []
            } else {
                let sequence = masked.sequence
                let cellWidth = Double(detector.cellSize) / Double(geometry.width)
                let cellHeight = Double(detector.cellSize) / Double(geometry.height)
                let time = masked.timestamp
                ruleAlerts = detector.withChanged { changed in
                    rules.update(
                        RuleFrame(
                            frame: sequence, time: time, localTime: localTime, boxes: detector.boxes,
                            changed: changed, columns: detector.columns, rows: detector.rows,
                            watchedArea: detector.watchedArea, cellWidth: cellWidth, cellHeight: cellHeight),
                        armed: armed)
                }
            }
            tamperChange = nil
            if let tamper {
                let frame = masked.sequence
                let time = masked.timestamp
                tamperChange = detector.withGrid { tamper.update(grid: $0, frame: frame, time: time) }
            }
            try body(masked, updates)
        }
    }

    /// Masks `frame` in place and looks for motion (and runs the rules); returns the event updates.
    @discardableResult
    public func process(
        _ frame: Frame, armed: Bool = true, localTime: LocalTime? = nil
    ) -> [MotionEventTracker.Update] {
        var result: [MotionEventTracker.Update] = []
        process(frame, armed: armed, localTime: localTime) { _, updates in result = updates }
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
        rules.reset()
        ruleAlerts = []
        return tracker.finish()
    }

    /// Ends events in progress at the end of a stream.
    public func finish() -> [MotionEventTracker.Update] { tracker.finish() }
}
