import Synchronization

/// GPIO lines held in memory (`chip = "simulated"`): the demo's button, pressed from `vigie callpoint simulate`,
/// and the tests'. Edges come out of `nextEdge` like the kernel's, stamped with the monotonic clock; the outputs
/// are remembered, with every change, for the tests to read.
public final class SimulatedGPIO: GPIOLines {
    private struct State {
        var levels: [GPIOInput: Bool]
        var pending: [GPIOEdge] = []
        var outputs: [GPIOOutput: Bool]
        var changes: [(output: GPIOOutput, lit: Bool)] = []
        var closed = false
    }

    public let inputs: Set<GPIOInput>
    public let outputs: Set<GPIOOutput>
    private let state: Mutex<State>
    private let wake = WakeSignal()

    /// Lines for the roles `settings` configures, all inactive and dark.
    public convenience init(_ settings: GPIOSettings) {
        var inputs: Set<GPIOInput> = []
        if settings.button != nil { inputs.insert(.button) }
        if settings.tamper != nil { inputs.insert(.tamper) }
        var outputs: Set<GPIOOutput> = []
        if settings.callLED != nil { outputs.insert(.callLED) }
        if settings.faultLED != nil { outputs.insert(.faultLED) }
        if settings.answeredLED != nil { outputs.insert(.answeredLED) }
        self.init(inputs: inputs, outputs: outputs)
    }

    public init(inputs: Set<GPIOInput>, outputs: Set<GPIOOutput>, active: Set<GPIOInput> = []) {
        self.inputs = inputs
        self.outputs = outputs
        state = Mutex(
            State(
                levels: Dictionary(uniqueKeysWithValues: inputs.map { ($0, active.contains($0)) }),
                outputs: Dictionary(uniqueKeysWithValues: outputs.map { ($0, false) })))
    }

    /// Drives an input, as a hand on the button or the door would: an edge when the level changes.
    public func drive(_ input: GPIOInput, active: Bool) throws(GPIOError) {
        let changed = try state.withLock { state throws(GPIOError) -> Bool in
            guard state.levels[input] != nil else { throw GPIOError("drive", line: input.rawValue, reason: "no line") }
            guard state.levels[input] != active else { return false }
            state.levels[input] = active
            state.pending.append(GPIOEdge(input, active: active, nanoseconds: MonotonicClock.nanoseconds()))
            return true
        }
        if changed { wake.post() }
    }

    /// Whether an output is lit now.
    public func isLit(_ output: GPIOOutput) -> Bool { state.withLock { $0.outputs[output] ?? false } }

    /// Every change of the outputs so far, in order.
    public var changes: [(output: GPIOOutput, lit: Bool)] { state.withLock { $0.changes } }

    public func isActive(_ input: GPIOInput) throws(GPIOError) -> Bool {
        guard let level = state.withLock({ $0.levels[input] }) else {
            throw GPIOError("read", line: input.rawValue, reason: "no such line on this unit")
        }
        return level
    }

    public func set(_ output: GPIOOutput, lit: Bool) throws(GPIOError) {
        try state.withLock { state throws(GPIOError) in
            guard let old = state.outputs[output] else {
                throw GPIOError("set", line: output.rawValue, reason: "no such line on this unit")
            }
            if old != lit { state.changes.append((output, lit)) }
            state.outputs[output] = lit
        }
    }

    public func nextEdge(timeout: Duration) throws(GPIOError) -> GPIOEdge? {
        if let edge = takeEdge() { return edge }
        wake.wait(for: timeout)
        return takeEdge()
    }

    private func takeEdge() -> GPIOEdge? {
        state.withLock { state in
            guard !state.closed, !state.pending.isEmpty else { return nil }
            return state.pending.removeFirst()
        }
    }

    public func close() {
        state.withLock { state in
            state.closed = true
            for output in state.outputs.keys { state.outputs[output] = false }
        }
        wake.post()
    }
}
