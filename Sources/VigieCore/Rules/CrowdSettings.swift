/// `[crowd]`: the `crowd_movement` rule, a sudden jump of the moving area across the whole watched image.
public struct CrowdSettings: Sendable, Hashable {
    /// Off unless the file turns it on: a unit only signals what it was set up to signal.
    public var enabled = false
    /// How much the moving share of the watched image (0…1) must rise within `window` seconds.
    public var jump = 0.15
    /// Seconds over which the rise is measured.
    public var window = 1.0
    /// Seconds the raised level must hold (at least three quarters of the rise) before the alert.
    public var hold = 1.5
    /// Seconds the moving share must stay back down before another alert.
    public var rearm = 10.0

    public init() {}
}
