/// What was said or played, once it is over: the `announcement` event's content.
public struct Announcement: Sendable, Hashable {
    /// The message as it was queued.
    public var message: SpeakerMessage
    /// When its first sound (the chime, or the message) started, on the queue's clock.
    public var startTime: Double
    /// Seconds from its start to its end.
    public var duration: Double
    /// How many times the message itself was played through (0 if interrupted during the chime or the first).
    public var timesPlayed: Int
    /// A higher-priority message, a fault or a stop cut it short.
    public var interrupted: Bool
    /// It reached the maximum duration: what was left was not played.
    public var truncated: Bool

    /// An announcement of `message`, as the queue makes it when the message ends.
    public init(
        message: SpeakerMessage, startTime: Double, duration: Double, timesPlayed: Int, interrupted: Bool,
        truncated: Bool
    ) {
        self.message = message
        self.startTime = startTime
        self.duration = duration
        self.timesPlayed = timesPlayed
        self.interrupted = interrupted
        self.truncated = truncated
    }
}
