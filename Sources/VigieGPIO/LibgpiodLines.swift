import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The unit's GPIO lines through libgpiod 1.6: the `[gpio]` chip opened, each configured line requested (inputs
/// with both edges, outputs driven low), until `close()`.
///
/// `nextEdge` is for one thread (the call point's GPIO thread); `set`, `isActive` and `close` may come from any
/// other. The wait never holds the lock: it waits in slices of at most `slice`, and `close()` waits for the slice
/// in progress to end before it frees the lines, so the waiting thread never touches a freed line. A `nextEdge`
/// waiting when `close()` comes returns `nil` within `slice`; one called after it throws ("closed").
public final class LibgpiodLines: GPIOLines {
    public let inputs: Set<GPIOInput>
    public let outputs: Set<GPIOOutput>
    /// The chip's device and label, as opened (`/dev/gpiochip0`, `pinctrl-rp1`).
    public let chipPath: String
    public let chipLabel: String
    /// Each role's offset on the chip, names resolved, keyed by the role's raw value (`button`, `tamper`, `led_call`,
    /// `led_answered`, `led_fault`): what `vigie button watch` prints and a log can name.
    public let offsets: [String: Int]

    /// The longest `nextEdge` waits before it looks whether `close()` was called.
    static let slice: UInt64 = 50_000_000

    private struct State: ~Copyable {
        var chip: GPIOChip?
        var inputLines: [GPIOInput: GPIOLine]
        var outputLines: [GPIOOutput: GPIOLine]
        /// Edges read but not yet returned, oldest first.
        var pending: [GPIOEdge] = []
        var waiting = false
        var closing = false
    }

    // The libgpiod objects are only ever touched with this lock held, or by the waiting thread while `waiting`
    // keeps `close()` from freeing them.
    private let state: Mutex<State>
    // Reached without the lock by the waiting thread only.
    private nonisolated(unsafe) let waitLines: [(GPIOInput, GPIOLine)]

    /// Opens `settings.chip` and requests every line it configures, as `consumer` (what `gpioinfo` shows).
    /// Fails, with nothing left requested, when the chip cannot be opened, a line name is unknown, two roles are
    /// the same line, or a line is busy.
    public init(_ settings: GPIOSettings, consumer: String = "vigied") throws(GPIOError) {
        let chip = try GPIOChip(settings.chip)
        var inputLines: [GPIOInput: GPIOLine] = [:]
        var outputLines: [GPIOOutput: GPIOLine] = [:]
        var offsets: [String: Int] = [:]
        var owner: [Int: String] = [:]
        do throws(GPIOError) {
            func resolve(_ line: GPIOSettings.Line, role: String) throws(GPIOError) -> Int {
                let offset = try chip.offset(of: line)
                if let other = owner[offset] {
                    throw GPIOError("request", line: line.description, reason: "line \(offset) is also \(other)")
                }
                owner[offset] = role
                offsets[role] = offset
                return offset
            }
            for role in GPIOInput.allCases {
                guard let input = settings.input(role) else { continue }
                let offset = try resolve(input.line, role: role.rawValue)
                inputLines[role] = try chip.requestInput(
                    offset, activeLow: input.activeLow, bias: input.bias, consumer: consumer,
                    name: "\(role.rawValue) \(input.line)")
            }
            for role in GPIOOutput.allCases {
                guard let line = settings.line(of: role) else { continue }
                let offset = try resolve(line, role: role.rawValue)
                outputLines[role] = try chip.requestOutput(offset, consumer: consumer, name: "\(role.rawValue) \(line)")
            }
        } catch {
            chip.close()
            throw error
        }
        inputs = Set(inputLines.keys)
        outputs = Set(outputLines.keys)
        chipPath = chip.path
        chipLabel = chip.label
        self.offsets = offsets
        waitLines = GPIOInput.allCases.compactMap { role in inputLines[role].map { (role, $0) } }
        state = Mutex(State(chip: chip, inputLines: inputLines, outputLines: outputLines))
    }

    deinit { close() }

    public func isActive(_ input: GPIOInput) throws(GPIOError) -> Bool {
        try state.withLock { state throws(GPIOError) -> Bool in
            guard state.chip != nil else { throw GPIOError("read", line: input.rawValue, reason: "closed") }
            guard let line = state.inputLines[input] else {
                throw GPIOError("read", line: input.rawValue, reason: "no line configured for it")
            }
            return try line.value()
        }
    }

    public func set(_ output: GPIOOutput, lit: Bool) throws(GPIOError) {
        try state.withLock { state throws(GPIOError) in
            guard state.chip != nil else { throw GPIOError("set", line: output.rawValue, reason: "closed") }
            guard let line = state.outputLines[output] else {
                throw GPIOError("set", line: output.rawValue, reason: "no line configured for it")
            }
            try line.set(lit)
        }
    }

    public func nextEdge(timeout: Duration) throws(GPIOError) -> GPIOEdge? {
        let (seconds, attoseconds) = timeout.components
        let total = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        let deadline = MonotonicClock.nanoseconds() + total
        var waited = false
        while true {
            let step = state.withLock { state -> Step in
                if !state.pending.isEmpty { return .edge(state.pending.removeFirst()) }
                guard state.chip != nil, !state.closing else { return .closed }
                guard !waitLines.isEmpty else { return .nothingToWaitFor }
                state.waiting = true
                return .wait
            }
            switch step {
            case .edge(let edge):
                return edge
            case .closed:
                // Closed during this wait: the promised nil, at once. Called after close: an error, so that a
                // loop around it stops instead of spinning.
                if waited { return nil }
                throw GPIOError("wait", reason: "closed")
            case .nothingToWaitFor:
                // No input configured: nothing will ever come, but a loop around it must not spin.
                Self.sleep(until: deadline)
                return nil
            case .wait:
                waited = true
            }
            let now = MonotonicClock.nanoseconds()
            let left = deadline > now ? deadline - now : 0
            var edges: [GPIOEdge] = []
            var failure: GPIOError?
            do throws(GPIOError) {
                let ready = try GPIOWait.ready(waitLines.map(\.1), nanoseconds: min(left, Self.slice))
                for (role, line) in waitLines where ready.contains(where: { $0 === line }) {
                    edges += try line.readEdges().map { GPIOEdge(role, active: $0.active, nanoseconds: $0.nanoseconds) }
                }
            } catch {
                failure = error
            }
            let edge = state.withLock { state -> GPIOEdge? in
                state.waiting = false
                state.pending += edges.sorted { $0.nanoseconds < $1.nanoseconds }
                return state.pending.isEmpty ? nil : state.pending.removeFirst()
            }
            if let edge { return edge }
            if let failure { throw failure }
            if MonotonicClock.nanoseconds() >= deadline { return nil }
        }
    }

    public func close() {
        while true {
            let done = state.withLock { state -> Bool in
                state.closing = true
                guard let chip = state.chip else { return true }
                // Outputs first and at once: a closing unit must not leave an LED lit, whatever the inputs do.
                for line in state.outputLines.values {
                    try? line.set(false)
                    line.release()
                }
                state.outputLines = [:]
                guard !state.waiting else { return false }
                for line in state.inputLines.values { line.release() }
                state.inputLines = [:]
                chip.close()
                state.chip = nil
                return true
            }
            if done { return }
            // The waiting thread ends its slice within `slice`; then the inputs are free to go.
            usleep(2_000)
        }
    }

    private enum Step {
        case edge(GPIOEdge)
        case closed
        case nothingToWaitFor
        case wait
    }

    private static func sleep(until deadline: UInt64) {
        let now = MonotonicClock.nanoseconds()
        guard deadline > now else { return }
        let left = deadline - now
        var time = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&time, &remaining) != 0 && errno == EINTR { time = remaining }
    }
}
