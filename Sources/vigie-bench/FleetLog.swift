import Synchronization

/// What the units said about their links, gathered from every shard: each unit's `UplinkService` logs
/// `uplink connected` (with the MQTT version), `uplink cannot connect` (with the reason) and `uplink
/// disconnected` as it carries out its `MQTTLink`'s decisions, and its shard passes each on as a line
/// (`FleetShard.Line`). So this is when each unit saw its CONNACK, and how often and why it failed to connect.
final class FleetLog: Sendable {
    struct State {
        /// Per unit, when each connection was accepted (monotonic nanoseconds), in order.
        var connections: [[Int64]]
        /// Per unit, failed connection attempts.
        var failedAttempts: [Int]
        /// Per unit, connections lost.
        var disconnections: [Int]
        /// Connections by MQTT version (`MQTT 5`, `MQTT 3.1.1`).
        var versions: [String: Int] = [:]
        /// Why attempts failed, by reason.
        var failureReasons: [String: Int] = [:]
        /// Other warnings and errors the units logged, by message.
        var problems: [String: Int] = [:]
    }

    let state: Mutex<State>

    init(units: Int) {
        state = Mutex(
            State(
                connections: Array(repeating: [], count: units), failedAttempts: Array(repeating: 0, count: units),
                disconnections: Array(repeating: 0, count: units)))
    }

    /// Takes a shard's line if it is one of the units' log events (`up`, `failed`, `down`, `problem`); returns
    /// false for anything else (a reply to a command).
    func record(_ line: String) -> Bool {
        let fields = line.split(separator: " ", maxSplits: 3)
        guard fields.count >= 2, let unit = Int(fields[1]) else { return false }
        return state.withLock { state in
            guard state.connections.indices.contains(unit) else { return false }
            switch fields[0] {
            case "up":
                guard fields.count == 4, let time = Int64(fields[2]) else { return false }
                state.connections[unit].append(time)
                state.versions[String(fields[3]), default: 0] += 1
            case "failed":
                state.failedAttempts[unit] += 1
                state.failureReasons[fields.dropFirst(2).joined(separator: " "), default: 0] += 1
            case "down":
                state.disconnections[unit] += 1
            case "problem":
                state.problems[fields.dropFirst(2).joined(separator: " "), default: 0] += 1
            default:
                return false
            }
            return true
        }
    }

    /// How many units have had a connection accepted at or after `mark`, and when the last of them was.
    func connected(since mark: Int64) -> (units: Int, last: Int64?) {
        let firsts = firstConnections(since: mark)
        return (firsts.count, firsts.max())
    }

    /// Per unit that has one, the first connection at or after `mark`.
    func firstConnections(since mark: Int64) -> [Int64] {
        state.withLock { $0.connections.compactMap { $0.first { $0 >= mark } } }
    }

    /// Units with more than one connection at or after `mark`: the link dropped again after coming back.
    func reconnectedMoreThanOnce(since mark: Int64) -> Int {
        state.withLock { $0.connections.filter { $0.filter { $0 >= mark }.count > 1 }.count }
    }
}
