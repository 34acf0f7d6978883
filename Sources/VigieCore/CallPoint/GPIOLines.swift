#if canImport(Glibc)
    import Glibc
#endif

/// An input line of the unit, by what it is wired to (`[gpio]` says which line of which chip).
public enum GPIOInput: String, Sendable, Hashable, CaseIterable {
    /// The call point's button (`button_line`); active is pressed.
    case button
    /// The cabinet door's switch (`tamper_line`); active is open.
    case tamper
}

/// An output line of the unit: an LED, lit when the line is high.
public enum GPIOOutput: String, Sendable, Hashable, CaseIterable {
    /// The call LED (`led_call_line`), yellow in EN 81-28's terms: the call is registered.
    case callLED = "led_call"
    /// The answered LED (`led_answered_line`), green: the centre answered. Optional: without it the call LED
    /// blinks while the call waits and stays lit once answered.
    case answeredLED = "led_answered"
    /// The fault LED (`led_fault_line`), red.
    case faultLED = "led_fault"
}

/// A change of an input line, as the kernel timestamped it.
public struct GPIOEdge: Sendable, Hashable, CustomStringConvertible {
    public var input: GPIOInput
    /// The line's logical level after the edge, active-low already applied: true when the input became active
    /// (the button pressed, the cabinet opened).
    public var active: Bool
    /// When it happened: the kernel's timestamp of the edge, `CLOCK_MONOTONIC` nanoseconds (`MonotonicClock`).
    public var nanoseconds: UInt64

    public init(_ input: GPIOInput, active: Bool, nanoseconds: UInt64) {
        self.input = input
        self.active = active
        self.nanoseconds = nanoseconds
    }

    public var description: String { "\(input.rawValue) \(active ? "active" : "inactive") at \(nanoseconds) ns" }
}

/// A GPIO operation that failed: what was done, on which line, and why.
public struct GPIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `open`, `request`, `read`, `set`, `wait`, …
    public var operation: String
    /// The line concerned, as configured (`17`, `GPIO17`, `button`), when there is one.
    public var line: String?
    /// What the system said (strerror) or what was wrong.
    public var reason: String

    public init(_ operation: String, line: String? = nil, reason: String) {
        self.operation = operation
        self.line = line
        self.reason = reason
    }

    public var description: String {
        "GPIO \(operation)\(line.map { " (line \($0))" } ?? ""): \(reason)"
    }
}

/// The unit's GPIO lines as the call point uses them, by role: inputs that report their edges, outputs it drives.
/// The lines are those `GPIOSettings` configures, requested when the implementation is made (libgpiod's in
/// `VigieGPIO`, `SimulatedGPIO` for the demo and tests) and released by `close()`. Asking for a role the
/// settings have no line for is an error.
public protocol GPIOLines: AnyObject, Sendable {
    /// The roles that have a line on this unit.
    var inputs: Set<GPIOInput> { get }
    var outputs: Set<GPIOOutput> { get }
    /// The logical level of an input (true: active, the button pressed, the cabinet open).
    func isActive(_ input: GPIOInput) throws(GPIOError) -> Bool
    /// Drives an output: true lights the LED (the line high).
    func set(_ output: GPIOOutput, lit: Bool) throws(GPIOError)
    /// Waits up to `timeout` for the next edge on any input; `nil` when none came. One thread calls it.
    func nextEdge(timeout: Duration) throws(GPIOError) -> GPIOEdge?
    /// Turns the outputs off and releases every line. A `nextEdge` waiting returns `nil` within its timeout.
    func close()
}

/// The system's monotonic clock, the one the kernel timestamps GPIO edges with.
public enum MonotonicClock {
    /// Nanoseconds of `CLOCK_MONOTONIC`.
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
