/// How abandoned objects are looked for (`[abandoned]`). Off unless the section is in the file.
public struct AbandonedSettings: Sendable, Hashable {
    /// Whether abandoned objects are looked for at all (`true` as soon as `[abandoned]` is present, unless it says
    /// `enabled = false`).
    public var enabled = false
    /// How long something must stay still where the scene had nothing before it is reported.
    public var seconds = 60.0
    /// Smallest object reported, as a fraction of the image (0.001 = 0.1 %).
    public var minimumArea = 0.001
    /// Largest object reported, as a fraction of the image: above it, a still region is taken as a vehicle parking
    /// or a change of the scene itself (a lit shop window), not as an object left behind.
    public var maximumArea = 0.05

    public init() {}
}
