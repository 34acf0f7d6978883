import Synchronization
import VigieCore
import VigieUplink

/// The supervision centre of the fleet benchmark: one subscriber (MQTT 3.1.1, persistent session, QoS 1, so the
/// broker keeps what arrives for it across the restart) that tallies, per unit, which event `seq` arrived and how
/// many times, and when each unit said `online`.
final class FleetCentre: Sendable {
    struct State {
        /// Per unit, how many times each seq arrived (index = seq).
        var arrivals: [[UInt16]]
        /// Per unit, how many distinct seqs from 1 to `expected` arrived.
        var distinct: [Int]
        var expected = 0
        /// Units with every seq from 1 to `expected`.
        var complete = 0
        var messages = 0
        var duplicates = 0
        /// Seqs outside 1…`expected`, or from a device that is not in the fleet.
        var unexpected = 0
        var historical = 0
        /// When a seq arrived for the first time, the last time it happened (monotonic nanoseconds).
        var lastNew: Int64?
        /// `online` statuses published at or after this time (RFC 3339, UTC: ordered as text) count; retained
        /// ones the broker sends again on each subscription are older and do not.
        var onlineAfter = ""
        var online: [Bool]
        var onlineCount = 0
        var lastOnline: Int64?
        var connections = 0
    }

    let state: Mutex<State>
    let prefix: String

    init(units: Int, maximumSeq: Int, devicePrefix: String) {
        prefix = devicePrefix
        state = Mutex(
            State(
                arrivals: Array(repeating: Array(repeating: 0, count: maximumSeq + 1), count: units),
                distinct: Array(repeating: 0, count: units), online: Array(repeating: false, count: units)))
    }

    static let filters = ["vigie/v1/+/event/#", "vigie/v1/+/status"]

    /// From now on, each unit is complete once seqs 1…`seq` have all arrived.
    func expect(upTo seq: Int) {
        state.withLock { state in
            state.expected = seq
            state.complete = 0
            for (unit, seqs) in state.arrivals.enumerated() {
                state.distinct[unit] = seqs.prefix(seq + 1).dropFirst().filter { $0 > 0 }.count
                if state.distinct[unit] == seq { state.complete += 1 }
            }
        }
    }

    /// Counts `online` statuses published from `stamp` on (an RFC 3339 time), afresh.
    func countOnline(after stamp: String) {
        state.withLock { state in
            state.onlineAfter = stamp
            state.online = Array(repeating: false, count: state.online.count)
            state.onlineCount = 0
            state.lastOnline = nil
        }
    }

    var snapshot: State { state.withLock { $0 } }

    /// Reads the subscriber's events until its stream ends.
    func consume(_ events: AsyncStream<MQTTClient.Event>) async {
        for await event in events {
            switch event {
            case .connected: state.withLock { $0.connections += 1 }
            case .message(let message): receive(message)
            default: break
            }
        }
    }

    private func receive(_ message: MQTTClient.Message) {
        let now = Monotonic.now()
        let levels = message.topic.split(separator: "/", maxSplits: 4)
        guard levels.count >= 4, levels[2].hasPrefix(prefix), let unit = Int(levels[2].dropFirst(prefix.count)),
            let json = try? JSON.parse(message.payload)
        else {
            state.withLock { $0.unexpected += 1 }
            return
        }
        state.withLock { state in
            guard state.arrivals.indices.contains(unit) else {
                state.unexpected += 1
                return
            }
            if levels[3] == "status" {
                guard json["state"]?.stringValue == "online", let time = json["time"]?.stringValue,
                    time >= state.onlineAfter, !state.online[unit]
                else { return }
                state.online[unit] = true
                state.onlineCount += 1
                state.lastOnline = now
                return
            }
            state.messages += 1
            if json["historical"]?.boolValue == true { state.historical += 1 }
            guard let seq = json["seq"]?.intValue, state.arrivals[unit].indices.contains(seq), seq > 0 else {
                state.unexpected += 1
                return
            }
            state.arrivals[unit][seq] &+= 1
            guard state.arrivals[unit][seq] == 1 else {
                state.duplicates += 1
                return
            }
            state.lastNew = now
            guard seq <= state.expected else { return }
            state.distinct[unit] += 1
            if state.distinct[unit] == state.expected { state.complete += 1 }
        }
    }

    /// Units missing at least one seq in 1…`expected`, with their first missing seq.
    func missing() -> [(unit: Int, firstMissing: Int)] {
        state.withLock { state in
            guard state.expected > 0 else { return [] }
            return state.arrivals.enumerated().compactMap { unit, seqs in
                (1...state.expected).first { seqs[$0] == 0 }.map { (unit, $0) }
            }
        }
    }
}
