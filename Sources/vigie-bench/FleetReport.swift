import VigieCore

/// What the fleet benchmark measured; printed as text, or as one JSON object with `--json`. Durations are in
/// nanoseconds of the monotonic clock; those after the restart count from the moment the restarted broker accepted
/// connections.
struct FleetReport {
    let parameters: FleetBenchmark.Parameters
    var failure: String?
    var loadBefore = "?"
    var loadAfter = "?"
    var processes = 0
    var created: ProcessFigures.Sample?
    var connected: ProcessFigures.Sample?
    /// The units' processes, at their peak (sampled every 200 ms).
    var peak = ProcessFigures.Sample()
    /// The coordinator: the centre's subscriber and the bookkeeping.
    var coordinator = ProcessFigures.Sample()
    var brokerResident: Int?

    var creation: Int64?
    var initialConnect: Int64?
    var initialOnline: Int64?
    var initialPeakPerSecond: Int?
    var raiseFailures = 0

    var outages: [Outage] = []
    var connectedUnits = 0
    var failedAttempts: [Int] = []
    var versions: [String: Int] = [:]
    var failureReasons: [String: Int] = [:]
    var problems: [String: Int] = [:]

    var delivered = 0
    var duplicates = 0
    var unexpected = 0
    var historical = 0
    var lost = 0
    var subscriberConnections = 0

    init(parameters: FleetBenchmark.Parameters) { self.parameters = parameters }

    /// One broker outage and what followed it.
    struct Outage {
        var stopped: Int64 = 0
        var brokerStop: Int64?
        var brokerStart: Int64?
        var outage: Int64?
        var raisingOverran = false
        /// Events raised while the broker was down (and after, when raising took longer than the outage).
        var raised = 0
        var allBack: Int64?
        var allDelivered: Int64?
        var drained: Int64?
        var allOnline: Int64?
        var stillConnected = 0
        /// Per unit, its first connection after the restart (sorted).
        var returns: [Int64] = []
        var flapping = 0
        var failedAttempts = 0
        var peakPerSecond: Int?
        var duplicates = 0
        var after: ProcessFigures.Sample?

        func percentile(_ rank: Int) -> Int64? {
            returns.isEmpty ? nil : returns[min(returns.count - 1, returns.count * rank / 100)]
        }

        /// The most units whose CONNACK came within any window of this length.
        func peak(window: Int64) -> Int { FleetBenchmark.peak(returns, window: window) }

        /// Units back in each second after the broker listened.
        var perSecond: [Int] {
            guard let last = returns.last else { return [] }
            var bins = Array(repeating: 0, count: Int(max(0, last) / 1_000_000_000) + 1)
            for time in returns { bins[Int(max(0, time) / 1_000_000_000)] += 1 }
            return bins
        }
    }

    /// Takes what the units' log and the centre hold, whether the scenario finished or not.
    mutating func take(_ log: FleetLog, _ centre: FleetCentre) {
        log.state.withLock { state in
            failedAttempts = state.failedAttempts
            versions = state.versions
            failureReasons = state.failureReasons
            problems = state.problems
            connectedUnits = state.connections.filter { !$0.isEmpty }.count
        }
        let final = centre.snapshot
        delivered = final.messages
        duplicates = final.duplicates
        unexpected = final.unexpected
        historical = final.historical
        lost = centre.missing().count
        subscriberConnections = final.connections
    }

    func print(json: Bool) {
        if json {
            Swift.print(jsonText)
        } else {
            for line in lines { Swift.print(line) }
        }
    }

    var lines: [String] {
        let p = parameters
        var out = [
            "fleet: \(p.units) units in \(processes) processes of \(p.perProcess), each unit an UplinkService with its "
                + "own SQLiteOutbox and MQTTClient (one I/O thread), against one mosquitto on 127.0.0.1:\(p.port)",
            "load average (1, 5, 15 min): \(loadBefore) before, \(loadAfter) after",
            "start: units created in \(s(creation)) s; all \(p.units) connected \(s(initialConnect)) s after starting "
                + "at once (\(connectedUnits) ever connected; retained status of all at the centre: "
                + "\(s(initialOnline)) s); the broker accepted at most \(initialPeakPerSecond.map(String.init) ?? "?") "
                + "units in one second",
            "events: \(p.before) per unit before the outage, \(p.during) per unit during each outage of \(p.outage) s"
                + (raiseFailures > 0 ? "; \(raiseFailures) raises failed" : ""),
        ]
        for (index, outage) in outages.enumerated() { out += lines(outage, index) }
        out += [
            "delivery: lost \(lost) (units missing a seq), duplicates \(duplicates), \(delivered) event messages for "
                + "\(p.units * (p.before + p.during * p.outages)) events, \(historical) marked historical, "
                + "\(unexpected) unexpected; the centre connected \(subscriberConnections) times",
            "  versions: "
                + versions.sorted { $0.key < $1.key }.map { "\($0.key) × \($0.value)" }.joined(separator: ", "),
            "units' processes: peak RSS \(mib(peak.residentBytes)) MiB, peak threads \(peak.threads), peak open "
                + "files \(peak.openFiles) in one process; RSS / threads / most files in one process: created "
                + "\(sample(created)), all connected \(sample(connected))"
                + outages.enumerated().map { ", after outage \($0.offset + 1) \(sample($0.element.after))" }.joined(),
            "coordinator (centre's subscriber): RSS \(mib(coordinator.residentBytes)) MiB, \(coordinator.threads) "
                + "threads; broker: RSS \(brokerResident.map(mib) ?? "?") MiB at the end",
        ]
        for (reason, count) in failureReasons.sorted(by: { $0.value > $1.value }).prefix(5) {
            out.append("  connection attempts failed: \(reason) × \(count)")
        }
        for (problem, count) in problems.sorted(by: { $0.value > $1.value }).prefix(5) {
            out.append("  logged by the units: \(problem) × \(count)")
        }
        if let failure { out.append("FAILED: \(failure)") }
        return out
    }

    func lines(_ outage: Outage, _ index: Int) -> [String] {
        let units = parameters.units
        return [
            "outage \(index + 1): broker stopped by SIGTERM in \(ms(outage.brokerStop)) ms, listening again "
                + "\(s(outage.outage)) s after (start took \(ms(outage.brokerStart)) ms); \(outage.raised) events "
                + "raised into the outboxes meanwhile"
                + (outage.raisingOverran ? " (raising went on after the restart)" : ""),
            "  reconnection: all \(units) units back \(s(outage.allBack)) s after the broker listened; per unit p50 "
                + "\(s(outage.percentile(50))) s, p90 \(s(outage.percentile(90))) s; \(outage.stillConnected) "
                + "connected 2 s later, \(outage.flapping) came back more than once; "
                + "\(fixed(Double(outage.failedAttempts) / Double(units), 1)) failed attempts per unit",
            "  peak connection rate: \(outage.peakPerSecond.map(String.init) ?? "?") units accepted in one second at "
                + "the broker (its log); at the units, \(outage.peak(window: 1_000_000_000)) CONNACKs in any second, "
                + "\(outage.peak(window: 100_000_000)) in any 100 ms; back per second: "
                + outage.perSecond.map(String.init).joined(separator: " "),
            "  delivery: every stored event at the centre \(s(outage.allDelivered)) s after the broker listened, "
                + "outboxes empty by \(s(outage.drained)) s, every new status by \(s(outage.allOnline)) s; "
                + "duplicates so far \(outage.duplicates)",
        ]
    }

    var jsonText: String {
        var json = JSONWriter()
        json.beginObject()
        json.integer("units", parameters.units)
        json.integer("processes", processes)
        json.integer("events_before", parameters.before)
        json.integer("events_during", parameters.during)
        json.string("load_before", loadBefore)
        json.string("load_after", loadAfter)
        if let failure { json.string("failure", failure) }
        json.number("creation_s", seconds(creation))
        json.number("initial_connect_s", seconds(initialConnect))
        json.integer("initial_peak_accepts_per_s", initialPeakPerSecond ?? -1)
        json.beginArray("outages")
        for outage in outages {
            json.beginObject()
            json.integer("raised", outage.raised)
            json.number("outage_s", seconds(outage.outage))
            json.number("all_back_s", seconds(outage.allBack))
            json.number("return_p50_s", seconds(outage.percentile(50)))
            json.number("return_p90_s", seconds(outage.percentile(90)))
            json.number("all_delivered_s", seconds(outage.allDelivered))
            json.number("drained_s", seconds(outage.drained))
            json.integer("peak_accepts_per_s", outage.peakPerSecond ?? -1)
            json.integer("peak_connacks_per_100ms", outage.peak(window: 100_000_000))
            json.integer("still_connected", outage.stillConnected)
            json.integer("flapping", outage.flapping)
            json.integer("failed_attempts", outage.failedAttempts)
            json.endObject()
        }
        json.endArray()
        json.integer("lost", lost)
        json.integer("duplicates", duplicates)
        json.integer("delivered", delivered)
        json.integer("peak_rss_bytes", peak.residentBytes)
        json.integer("peak_threads", peak.threads)
        json.integer("peak_open_files_per_process", peak.openFiles)
        json.integer("broker_rss_bytes", brokerResident ?? -1)
        json.endObject()
        return json.text
    }

    private func seconds(_ nanoseconds: Int64?) -> Double { nanoseconds.map(Monotonic.seconds) ?? -1 }
    private func s(_ nanoseconds: Int64?) -> String { nanoseconds == nil ? "?" : fixed(seconds(nanoseconds), 2) }
    private func ms(_ nanoseconds: Int64?) -> String {
        nanoseconds == nil ? "?" : fixed(seconds(nanoseconds) * 1000, 0)
    }
    private func mib(_ bytes: Int) -> String { fixed(Double(bytes) / 1_048_576, 0) }

    private func sample(_ sample: ProcessFigures.Sample?) -> String {
        guard let sample else { return "?" }
        return "\(mib(sample.residentBytes)) MiB / \(sample.threads) / \(sample.openFiles)"
    }

    private func fixed(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return decimals == 0 ? String(Int(rounded)) : String(rounded)
    }
}
