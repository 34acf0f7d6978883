/// `intrusion`: motion of at least the zone's `minimumArea`, its foot point (bottom centre of the box) inside the
/// zone, present for the zone's `dwell` seconds while the zone's schedule arms it: one alert, then nothing until
/// the zone has been quiet for `rearm` seconds. That quiet (or the zone disarmed) ends the situation: its end, the
/// last frame with such motion, is given to `collectEnds(into:)` for review, not raised.
///
/// Short gaps (up to `gap` seconds without such motion: a person stopping, a frame taken as a light change) do not
/// restart the dwell; a longer one does. Motion whose cells flicker (`RuleFrame.flicker` above `maximumFlicker`:
/// foliage swaying, water, a flag) does not count: a person entering flips each cell twice, a swaying branch many
/// times.
public final class IntrusionRule: RuleSource {
    public let zone: Zone
    /// Seconds without qualifying motion that a dwell in progress survives.
    public let gap: Double
    /// Seconds of quiet after an alert before the zone can raise another.
    public let rearm: Double
    /// Mean flicker of a region's changed cells above which it is taken as swaying, not moving.
    public let maximumFlicker: Double

    private var dwell: Dwell

    public init(zone: Zone, gap: Double = 0.6, rearm: Double = 10, maximumFlicker: Double = 0.15) {
        self.zone = zone
        self.gap = gap
        self.rearm = rearm
        self.maximumFlicker = maximumFlicker
        self.dwell = Dwell(dwell: zone.dwell, gap: gap, rearm: rearm)
    }

    public func reset() { dwell.reset() }

    public func collectEnds(into ends: inout [RuleEnd]) {
        dwell.collectEnd(kind: .intrusion, rule: zone.name, into: &ends)
    }

    public func update(_ frame: RuleFrame) -> [RuleAlert] {
        guard zone.schedule.isArmed(at: frame.localTime) else {
            dwell.reset()
            return []
        }
        var inside: [NormalizedRect] = []
        var area = 0.0
        for box in frame.boxes where box.area >= zone.minimumArea {
            let rect = box.rect
            if zone.contains(NormalizedPoint(x: rect.x + rect.width / 2, y: rect.y + rect.height)),
                frame.flicker(in: rect) <= maximumFlicker
            {
                inside.append(rect)
                area = max(area, box.area)
            }
        }
        guard let raised = dwell.update(holds: !inside.isEmpty, measure: area, frame: frame.frame, time: frame.time)
        else { return [] }
        return [
            RuleAlert(
                kind: .intrusion, rule: zone.name, zone: zone.name, boxes: inside,
                confidence: RuleAlert.confidence(raised.peak, threshold: zone.minimumArea, full: 4 * zone.minimumArea),
                startFrame: raised.startFrame, startTime: raised.startTime, frame: frame.frame, time: frame.time)
        ]
    }
}
