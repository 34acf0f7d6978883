/// How an LED shows a state: lit, dark, or blinking, slowly or fast.
public enum LEDPattern: Sendable, Hashable, CustomStringConvertible {
    case off
    case on
    /// 1 Hz: a call waiting for an answer (one LED), a fault.
    case slowBlink
    /// 4 Hz: a stuck button, which needs a technician.
    case fastBlink

    /// Half a period of a blinking pattern, in nanoseconds.
    public var halfPeriod: UInt64? {
        switch self {
        case .off, .on: nil
        case .slowBlink: 500_000_000
        case .fastBlink: 125_000_000
        }
    }

    /// Whether the LED is lit at `nanoseconds` on the monotonic clock (blinks are in phase with that clock, so
    /// two LEDs blinking alike blink together).
    public func isLit(at nanoseconds: UInt64) -> Bool {
        switch self {
        case .off: false
        case .on: true
        case .slowBlink, .fastBlink: (nanoseconds / halfPeriod!) % 2 == 0
        }
    }

    /// When a blinking LED next changes after `nanoseconds`; `nil` for a steady one.
    public func nextChange(after nanoseconds: UInt64) -> UInt64? {
        guard let half = halfPeriod else { return nil }
        return (nanoseconds / half + 1) * half
    }

    public var description: String {
        switch self {
        case .off: "off"
        case .on: "on"
        case .slowBlink: "slow_blink"
        case .fastBlink: "fast_blink"
        }
    }
}

/// What each of the call point's LEDs shows.
public struct CallPointLights: Sendable, Hashable {
    public var call: LEDPattern
    public var answered: LEDPattern
    public var fault: LEDPattern

    public init(call: LEDPattern = .off, answered: LEDPattern = .off, fault: LEDPattern = .off) {
        self.call = call
        self.answered = answered
        self.fault = fault
    }

    public subscript(output: GPIOOutput) -> LEDPattern {
        switch output {
        case .callLED: call
        case .answeredLED: answered
        case .faultLED: fault
        }
    }
}
