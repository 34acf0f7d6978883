/// A token bucket: up to `capacity` at once, refilled at `rate` per second. Time is given by the caller
/// (seconds on a monotonic clock), so it is pure and tested without waiting.
public struct TokenBucket: Sendable, Hashable {
    public let capacity: Double
    /// Tokens added per second.
    public let rate: Double
    public private(set) var tokens: Double
    private var updated: Double?

    /// Starts full.
    public init(capacity: Int, perSecond rate: Double) {
        precondition(capacity >= 1 && rate > 0 && rate.isFinite)
        self.capacity = Double(capacity)
        self.rate = rate
        tokens = Double(capacity)
    }

    /// Brings the bucket to `now` (a clock going backwards adds nothing).
    public mutating func refill(now: Double) {
        if let updated, now > updated { tokens = min(capacity, tokens + (now - updated) * rate) }
        updated = max(updated ?? now, now)
    }

    /// Seconds until a token is available at `now` (0 if one is).
    public mutating func wait(now: Double) -> Double {
        refill(now: now)
        return tokens >= 1 ? 0 : (1 - tokens) / rate
    }

    /// Takes a token if there is one at `now`.
    public mutating func take(now: Double) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// Decides whether a valid command runs: a rate limit per command name (a token bucket each) and a bound on
/// the commands in progress, so that a flood from the centre (or from whoever holds its credentials) costs a
/// short error reply each, never the camera's time or the unit's memory. The call point's commands (`call_ack`,
/// `call_end`) have places of their own (`reserve`): a flood of snapshots never keeps a caller waiting.
/// Pure: time comes from the caller.
public struct CommandGate: Sendable {
    public enum Decision: Sendable, Hashable {
        /// Run it; call `finished()` when its reply is sent.
        case run
        /// Answer `rate_limited`: this command's bucket is empty for `retryAfter` more seconds.
        case rateLimited(retryAfter: Double)
        /// Answer `busy`: `limit` commands are already in progress.
        case busy(limit: Int)
    }

    public let burst: Int
    public let perMinute: Double
    public let queueLimit: Int
    /// Places kept for reserved commands, beyond `queueLimit`.
    public let reserve: Int
    /// Ordinary commands in progress.
    public private(set) var inProgress = 0
    /// Reserved commands in progress.
    public private(set) var reservedInProgress = 0
    private var buckets: [String: TokenBucket] = [:]

    /// `burst` commands of one name at once, refilled at `perMinute`; at most `queueLimit` ordinary and `reserve`
    /// reserved commands in progress.
    public init(burst: Int, perMinute: Double, queueLimit: Int, reserve: Int = CommandGate.callReserve) {
        precondition(burst >= 1 && perMinute > 0 && queueLimit >= 1 && reserve >= 1)
        self.burst = burst
        self.perMinute = perMinute
        self.queueLimit = queueLimit
        self.reserve = reserve
    }

    /// Places for the call point's commands: a centre answers one call at a time, a few in flight are plenty.
    public static let callReserve = 4

    public init(settings: UplinkSettings) {
        self.init(
            burst: settings.commandBurst, perMinute: settings.commandsPerMinute, queueLimit: settings.commandQueue)
    }

    /// Whether the command `name` may run at `now` (seconds, monotonic); a `reserved` one counts against
    /// `reserve`, not `queueLimit`. A refused command uses up nothing: a `busy` one keeps its token.
    public mutating func admit(_ name: String, now: Double, reserved: Bool = false) -> Decision {
        var bucket = buckets[name] ?? TokenBucket(capacity: burst, perSecond: perMinute / 60)
        defer { buckets[name] = bucket }
        let wait = bucket.wait(now: now)
        if wait > 0 { return .rateLimited(retryAfter: wait) }
        if reserved {
            if reservedInProgress >= reserve { return .busy(limit: reserve) }
            reservedInProgress += 1
        } else {
            if inProgress >= queueLimit { return .busy(limit: queueLimit) }
            inProgress += 1
        }
        _ = bucket.take(now: now)
        return .run
    }

    /// A command that was let run has sent its reply (`reserved` as it was admitted).
    public mutating func finished(reserved: Bool = false) {
        if reserved {
            precondition(reservedInProgress > 0, "finished(reserved:) without a running reserved command")
            reservedInProgress -= 1
        } else {
            precondition(inProgress > 0, "finished() without a running command")
            inProgress -= 1
        }
    }
}
