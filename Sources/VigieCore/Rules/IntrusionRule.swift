/// `intrusion`: motion of at least the zone's `minimumArea`, its foot point (bottom centre of the box) inside the
/// zone, present for the zone's `dwell` seconds while the zone's schedule arms it: one alert, then nothing until
/// the zone has been quiet for `rearm` seconds.
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

    private enum State {
        case quiet
        case dwelling(startFrame: Int, startTime: Double, lastSeen: Double, peak: Double)
        case raised(lastSeen: Double)
    }
    private var state = State.quiet

    public init(zone: Zone, gap: Double = 0.6, rearm: Double = 10, maximumFlicker: Double = 0.15) {
        self.zone = zone
        self.gap = gap
        self.rearm = rearm
        self.maximumFlicker = maximumFlicker
    }

    public func reset() { state = .quiet }

    public func update(_ frame: RuleFrame) -> [RuleAlert] {
        guard zone.schedule.isArmed(at: frame.localTime) else {
            state = .quiet
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
        let seen = !inside.isEmpty
        switch state {
        case .quiet:
            if seen {
                state = .dwelling(startFrame: frame.frame, startTime: frame.time, lastSeen: frame.time, peak: area)
            }
        case .dwelling(let startFrame, let startTime, let lastSeen, let peak):
            if seen {
                let peak = max(peak, area)
                if frame.time - startTime >= zone.dwell {
                    state = .raised(lastSeen: frame.time)
                    return [
                        RuleAlert(
                            kind: .intrusion, rule: zone.name, zone: zone.name, boxes: inside,
                            confidence: RuleAlert.confidence(
                                peak, threshold: zone.minimumArea, full: 4 * zone.minimumArea),
                            startFrame: startFrame, startTime: startTime, frame: frame.frame, time: frame.time)
                    ]
                }
                state = .dwelling(startFrame: startFrame, startTime: startTime, lastSeen: frame.time, peak: peak)
            } else if frame.time - lastSeen > gap {
                state = .quiet
            }
        case .raised(let lastSeen):
            if seen {
                state = .raised(lastSeen: frame.time)
            } else if frame.time - lastSeen >= rearm {
                state = .quiet
            }
        }
        return []
    }
}
