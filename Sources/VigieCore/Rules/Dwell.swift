/// The dwell of a zone's rule: a condition that must hold for `dwell` seconds (gaps up to `gap` forgiven) before
/// one alert, then nothing until it has stayed false for `rearm` seconds. Shared by `IntrusionRule` and
/// `DensityRule`.
struct Dwell {
    /// When the condition began and the largest measure seen meanwhile: what the alert reports.
    struct Raised {
        var startFrame: Int
        var startTime: Double
        var peak: Double
    }

    private enum State {
        case quiet
        case dwelling(startFrame: Int, startTime: Double, lastTrue: Double, peak: Double)
        case raised(lastTrue: Double)
    }

    let dwell: Double
    let gap: Double
    let rearm: Double
    private var state = State.quiet

    init(dwell: Double, gap: Double, rearm: Double) {
        self.dwell = dwell
        self.gap = gap
        self.rearm = rearm
    }

    /// Starts afresh (disarmed, outside the schedule, a reset).
    mutating func reset() { state = .quiet }

    /// Takes one frame: whether the condition holds, and its measure (area, share). Returns what to raise when the
    /// dwell is complete on this frame.
    mutating func update(holds: Bool, measure: Double, frame: Int, time: Double) -> Raised? {
        switch state {
        case .quiet:
            if holds { state = .dwelling(startFrame: frame, startTime: time, lastTrue: time, peak: measure) }
        case .dwelling(let startFrame, let startTime, let lastTrue, let peak):
            if holds {
                let peak = max(peak, measure)
                if time - startTime >= dwell {
                    state = .raised(lastTrue: time)
                    return Raised(startFrame: startFrame, startTime: startTime, peak: peak)
                }
                state = .dwelling(startFrame: startFrame, startTime: startTime, lastTrue: time, peak: peak)
            } else if time - lastTrue > gap {
                state = .quiet
            }
        case .raised(let lastTrue):
            if holds {
                state = .raised(lastTrue: time)
            } else if time - lastTrue >= rearm {
                state = .quiet
            }
        }
        return nil
    }
}
