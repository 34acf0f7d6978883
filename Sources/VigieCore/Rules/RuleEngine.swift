/// Runs every rule on what the motion detector found, frame by frame, and applies the unit's arming: a disarmed
/// unit runs no rule (and forgets the situations in progress, so re-arming starts afresh); each zone rule also
/// follows its zone's schedule. Tamper detection is not a rule and is never silenced here.
///
/// The sources, in order: one `IntrusionRule` per `intrusion` zone, one `DensityRule` per `density` zone, the
/// `CrowdRule` when `[crowd]` is enabled, then whatever `add` appended (region tracking, lines, abandoned objects).
public final class RuleEngine {
    public private(set) var sources: [any RuleSource] = []
    /// The ends of raised situations (zones' dwell, crowd) the last `update` decided, for review (`SituationLog`):
    /// the unit raises nothing for them. Kept across frames only until the next `update`.
    public private(set) var ends: [RuleEnd] = []
    private var wasArmed = true
    /// Per cell: the moving average of changed-flag flips (see `RuleFrame.flicker`), and last frame's flags.
    private var flicker: [Float]
    private var previous: [UInt8]
    /// Weight of the newest frame in `flicker`.
    static let flickerRate: Float = 0.05

    /// - Parameters:
    ///   - zones: all the configured zones; the `motion` ones are the detector's business and are skipped here.
    ///   - detector: the detector the rules read (its grid, and which cells it watches).
    public init(zones: [Zone], crowd: CrowdSettings, detector: MotionDetector) {
        flicker = [Float](repeating: 0, count: detector.columns * detector.rows)
        previous = [UInt8](repeating: 0, count: detector.columns * detector.rows)
        for zone in zones where zone.kind == .intrusion { sources.append(IntrusionRule(zone: zone)) }
        for zone in zones where zone.kind == .density {
            sources.append(
                DensityRule(
                    zone: zone, columns: detector.columns, rows: detector.rows, watched: detector.isWatched(cell:)))
        }
        if crowd.enabled { sources.append(CrowdRule(settings: crowd)) }
        ends.reserveCapacity(8)
    }

    /// Appends a source; it runs after the ones already there, under the same arming.
    public func add(_ source: any RuleSource) { sources.append(source) }

    /// Whether any rule runs at all (a unit with no rule zone and no crowd rule skips the work).
    public var isEmpty: Bool { sources.isEmpty }

    /// Feeds one frame to every source; returns the alerts it decided, none while `armed` is false. The ends of
    /// situations it decided (including those a disarm or `reset()` stopped) are in `ends` until the next call.
    public func update(_ frame: RuleFrame, armed: Bool) -> [RuleAlert] {
        ends.removeAll(keepingCapacity: true)
        defer { for source in sources { source.collectEnds(into: &ends) } }
        guard armed else {
            if wasArmed { reset() }
            wasArmed = false
            return []
        }
        wasArmed = true
        let count = min(flicker.count, frame.changed.count)
        guard count > 0 else {
            var alerts: [RuleAlert] = []
            for source in sources { alerts += source.update(frame) }
            return alerts
        }
        let rate = Self.flickerRate
        return flicker.withUnsafeMutableBufferPointer { flicker in
            previous.withUnsafeMutableBufferPointer { previous in
                // Eight cells at a time: this runs on every frame over the whole grid.
                let changed = UnsafeRawPointer(frame.changed.baseAddress!)
                let before = UnsafeMutableRawPointer(previous.baseAddress!)
                let average = UnsafeMutableRawPointer(flicker.baseAddress!)
                let rateVector = SIMD8<Float>(repeating: rate)
                var cell = 0
                while cell + 8 <= count {
                    let now = changed.loadUnaligned(fromByteOffset: cell, as: SIMD8<UInt8>.self)
                    let then = before.loadUnaligned(fromByteOffset: cell, as: SIMD8<UInt8>.self)
                    let flipped = SIMD8<Float>(now ^ then)  // flags are 0 or 1
                    let old = average.loadUnaligned(fromByteOffset: cell * 4, as: SIMD8<Float>.self)
                    average.storeBytes(
                        of: old + (flipped - old) * rateVector, toByteOffset: cell * 4, as: SIMD8<Float>.self)
                    before.storeBytes(of: now, toByteOffset: cell, as: SIMD8<UInt8>.self)
                    cell += 8
                }
                while cell < count {
                    let now = frame.changed[cell]
                    let flipped: Float = now != previous[cell] ? 1 : 0
                    flicker[cell] += (flipped - flicker[cell]) * rate
                    previous[cell] = now
                    cell += 1
                }
                var frame = frame
                frame.flicker = UnsafeBufferPointer(flicker)
                var alerts: [RuleAlert] = []
                for source in sources { alerts += source.update(frame) }
                return alerts
            }
        }
    }

    /// Forgets every situation in progress (disarm, camera reconnect); the ends of raised ones go to `ends` with the
    /// next `update`.
    public func reset() {
        for source in sources { source.reset() }
        flicker.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        previous.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
