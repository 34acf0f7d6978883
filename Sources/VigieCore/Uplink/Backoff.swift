/// Reconnection delays: start short, double up to a cap, with jitter so that a thousand units coming back
/// after a broker restart do not reconnect in the same instant. Never zero (no busy loop).
public struct Backoff: Sendable {
    public let initial: Double
    public let maximum: Double
    /// ± fraction of the delay, e.g. 0.2 for ±20 %.
    public let jitter: Double
    public private(set) var attempt = 0

    public init(initial: Double = 0.5, maximum: Double = 30, jitter: Double = 0.2) {
        precondition(initial > 0 && maximum >= initial && (0..<1).contains(jitter))
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The delay before the next attempt, in seconds; counts the attempt.
    public mutating func next<R: RandomNumberGenerator>(using random: inout R) -> Double {
        var delay = initial
        for _ in 0..<min(attempt, 30) { delay = min(maximum, delay * 2) }
        attempt += 1
        let spread = delay * jitter
        return max(
            initial * (1 - jitter),
            min(maximum * (1 + jitter), delay + Double.random(in: -spread...spread, using: &random)))
    }

    public mutating func next() -> Double {
        var random = SystemRandomNumberGenerator()
        return next(using: &random)
    }

    /// After a connection that held: start again from `initial`.
    public mutating func reset() { attempt = 0 }
}
