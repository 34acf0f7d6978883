/// How camera tampering is detected (`[tamper]`). Defaults suit a fixed street camera at 5–30 frames per second.
///
/// The thresholds are ratios to a reference the detector learns from the camera's own view, so they do not
/// depend on the scene's brightness (see `TamperDetector`).
public struct TamperSettings: Sendable, Hashable {
    /// Whether tampering is looked for at all.
    public var enabled = true
    /// Seconds a tampering must last before it is reported (and the view must be right again before it is
    /// cleared). Longer than a bus filling the view, short enough for a report within 5 s.
    public var hold = 3.0
    /// Time constant, in seconds, of the reference's slow re-learning while nothing is wrong (it follows dusk).
    public var relearn = 20.0
    /// The view's contrast (standard deviation of luma) below this fraction of the reference's: covered or
    /// blinded.
    public var coveredContrast = 0.25
    /// Sharpness (gradient energy over contrast) below this fraction of the reference's: defocused.
    public var defocusSharpness = 0.35
    /// Correlation of the view's gradients with the reference's below this: moved.
    public var movedCorrelation = 0.5
    /// Seconds a camera may stay `moved` before its new view is taken as the reference (a `tamper_cleared` with
    /// reason `accepted`): a camera turned for good is not an open alert for ever. 0: never.
    public var acceptMovedAfter = 600.0

    public init() {}
}
