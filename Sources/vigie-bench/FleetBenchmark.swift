import Synchronization
import VigieCore
import VigieUplink

#if canImport(Glibc)
    import Glibc
#endif

/// A fleet of units against one mosquitto on 127.0.0.1, through broker restarts: figures, not a test. Run by
/// `tools/bench-fleet`, which writes the broker's configuration and gives this its path.
///
/// Each unit is the real uplink of a unit: its own `UplinkService` (retained status with a last will, events
/// through the durable outbox, acknowledgements, reconnection) over its own `MQTTClient` (one libmosquitto handle
/// and one I/O thread carrying out its own `MQTTLink` and jittered `Backoff`), with its own `SQLiteOutbox` in a
/// folder of its own. The units run in shards of `perProcess` (`FleetShard`), not all in one process:
/// libmosquitto's `mosquitto_loop` waits with `select()` and refuses a descriptor numbered 1024 or more
/// (FD_SETSIZE) with MOSQ_ERR_INVAL, and a unit holds six (outbox database, WAL and shared memory; socket and
/// libmosquitto's wake-up pair), so past about 170 units in one process the others open their TCP connection and
/// never send CONNECT. What the shards cannot give the units is a CPU, a disk and a network each: they share two
/// cores, one disk and loopback.
///
/// Scenario: the broker starts; the centre's subscriber connects; every unit starts at once and publishes its
/// retained status; each raises `before` events, all delivered. Then, `outages` times: the broker is stopped with
/// SIGTERM; for `outage` seconds every unit keeps raising events (`during` each) into its outbox; the broker starts
/// again; every unit comes back by itself and delivers what it stored. The centre counts each unit's seqs: none
/// may be missing.
enum FleetBenchmark {
    struct Parameters {
        var units = 1000
        var perProcess = 100
        var before = 3
        var during = 5
        var outage = 10.0
        var outages = 1
        var timeout = 300.0
        var mosquitto = "/usr/sbin/mosquitto"
        var configuration = ""
        var brokerLog = ""
        var port = 0
        var folder = ""
        var json = false

        static let usage = """
            vigie-bench fleet --config FILE --port N --broker-log FILE --folder DIR [--mosquitto PATH] \
            [--units 1000] [--per-process 100] [--before 3] [--during 5] [--outage 10] [--outages 1] [--timeout 300] [--json]
            """

        init(_ arguments: [String]) throws(FleetError) {
            var rest = arguments[...]
            while let name = rest.popFirst() {
                if name == "--json" {
                    json = true
                    continue
                }
                guard let value = rest.popFirst() else { throw .usage(Self.usage) }
                switch name {
                case "--units": units = try Self.number(value, name, 1...5000)
                case "--per-process": perProcess = try Self.number(value, name, 1...5000)
                case "--outages": outages = try Self.number(value, name, 1...20)
                case "--before": before = try Self.number(value, name, 1...1000)
                case "--during": during = try Self.number(value, name, 0...1000)
                case "--outage":
                    guard let seconds = Double(value), (0.1...300).contains(seconds) else {
                        throw .usage("--outage takes seconds from 0.1 to 300")
                    }
                    outage = seconds
                case "--timeout": timeout = Double(try Self.number(value, name, 10...3600))
                case "--port": port = try Self.number(value, name, 1...65535)
                case "--mosquitto": mosquitto = value
                case "--config": configuration = value
                case "--broker-log": brokerLog = value
                case "--folder": folder = value
                default: throw .usage(Self.usage)
                }
            }
            guard port != 0, !configuration.isEmpty, !brokerLog.isEmpty, !folder.isEmpty else {
                throw .usage(Self.usage)
            }
            guard (units + perProcess - 1) / perProcess <= 100 else { throw .usage("at most 100 processes") }
        }

        static func number(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(FleetError) -> Int {
            guard let value = Int(text), range.contains(value) else {
                throw .usage("\(name) takes a whole number in \(range.lowerBound)…\(range.upperBound)")
            }
            return value
        }
    }

    static let devicePrefix = "fleet-"
    static let event = UplinkEvent(kind: "test", priority: Priority.alert, details: [("source", "fleet")])

    static func deviceID(_ unit: Int) -> String {
        let digits = String(unit)
        return devicePrefix + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func run(_ arguments: [String]) async throws {
        let parameters = try Parameters(arguments)
        signal(SIGPIPE, SIG_IGN)  // a shard that died must show as an error, not end the coordinator
        var report = FleetReport(parameters: parameters)
        report.loadBefore = loadAverage()
        let broker = FleetBroker(
            executable: parameters.mosquitto, configuration: parameters.configuration, port: parameters.port,
            folder: parameters.folder)
        let shards = Mutex<[FleetShardProcess]>([])
        let log = FleetLog(units: parameters.units)
        let centre = FleetCentre(
            units: parameters.units, maximumSeq: parameters.before + parameters.during * parameters.outages,
            devicePrefix: devicePrefix)
        let figures = ProcessFigures()
        let sampler = Task {
            await figures.sample(every: .milliseconds(200)) { shards.withLock { $0.map(\.process.pid) } }
        }
        do {
            try await scenario(parameters, broker, shards, log, centre, &report)
        } catch {
            report.failure = "\(error)"
        }
        sampler.cancel()
        report.peak = figures.peaks
        report.take(log, centre)
        report.coordinator = ProcessFigures.Sample.of("self")
        for shard in shards.withLock({ $0 }) { await shard.quit() }
        await broker.stop()
        report.loadAfter = loadAverage()
        report.print(json: parameters.json)
        if report.failure != nil || report.lost != 0 { exit(1) }
    }

    static func scenario(
        _ parameters: Parameters, _ broker: FleetBroker, _ shardList: borrowing Mutex<[FleetShardProcess]>,
        _ log: FleetLog, _ centre: FleetCentre, _ report: inout FleetReport
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(parameters.timeout)
        let count = parameters.units

        try await broker.start()
        var options = MQTTClient.Options(clientID: "centre", brokers: [broker.url])
        options.mqttProtocol = .only(.v311)
        options.cleanStart = false
        options.subscriptions = FleetCentre.filters
        let subscriber = try MQTTClient(options: options)
        let receiving = Task { await centre.consume(subscriber.events) }
        defer { receiving.cancel() }
        subscriber.start()
        try await wait("the centre's subscriber to connect", until: deadline) { subscriber.isConnected }

        // The units, in shards; each shard creates its units on worker threads (opening an outbox commits).
        let unitsFolder = parameters.folder + "/units"
        guard mkdir(unitsFolder, 0o700) == 0 || errno == EEXIST else {
            throw FleetError.process("cannot create \(unitsFolder)")
        }
        let creating = Monotonic.now()
        for first in stride(from: 0, to: count, by: parameters.perProcess) {
            let shard = try FleetShardProcess(
                first: first, count: min(parameters.perProcess, count - first), broker: broker.url,
                folder: unitsFolder, log: log)
            shardList.withLock { $0.append(shard) }
        }
        let shards = shardList.withLock { $0 }
        _ = try await shards.answers(within: .seconds(120))  // each says `ready` by itself
        report.processes = shards.count
        report.creation = Monotonic.now() - creating
        report.created = ProcessFigures.Sample.of(shards.map(\.process.pid))

        // All at once, as after a power cut of a whole district.
        centre.countOnline(after: Timestamp.rfc3339(millis: UplinkService.nowMillis()))
        let start = Monotonic.now()
        _ = try await shards.ask("start")
        try await wait("every unit to connect", until: deadline) { log.connected(since: start).units == count }
        report.initialConnect = log.connected(since: start).last.map { $0 - start }
        try await wait("every unit's retained status at the centre", until: deadline) {
            centre.snapshot.onlineCount == count
        }
        report.initialOnline = centre.snapshot.lastOnline.map { $0 - start }
        report.initialPeakPerSecond = FleetBroker.acceptedPerSecond(
            log: parameters.brokerLog, clientPrefix: "vigie-\(devicePrefix)", since: 0
        ).values.max()
        report.connected = ProcessFigures.Sample.of(shards.map(\.process.pid))

        // Events while the link is up.
        centre.expect(upTo: parameters.before)
        for _ in 0..<parameters.before { report.raiseFailures += try await shards.total("raise") }
        try await wait("the events raised before the outage to be delivered", until: deadline) {
            centre.snapshot.complete == count
        }
        try await waitEmpty(shards, until: deadline)

        for index in 0..<parameters.outages {
            let outage = try await outage(
                index, parameters, broker, shards, log, centre, deadline: deadline, report: &report)
            report.outages.append(outage)
        }
        report.brokerResident = broker.process.flatMap {
            ProcessFigures.statusField("VmRSS", of: "/proc/\($0.pid)/status").map { $0 * 1024 }
        }
    }

    /// One outage: SIGTERM, as systemd stops the broker; the units keep raising events meanwhile; the broker
    /// starts again, and every unit must come back and deliver what it stored.
    static func outage(
        _ index: Int, _ parameters: Parameters, _ broker: FleetBroker, _ shards: [FleetShardProcess], _ log: FleetLog,
        _ centre: FleetCentre, deadline: ContinuousClock.Instant, report: inout FleetReport
    ) async throws -> FleetReport.Outage {
        let count = parameters.units
        var figures = FleetReport.Outage()
        let failedBefore = log.state.withLock { $0.failedAttempts.reduce(0, +) }
        let stopped = Monotonic.now()
        figures.stopped = stopped
        await broker.stop()
        figures.brokerStop = Monotonic.now() - stopped
        // Raised by a task of its own, so that a short outage ends on time even while units are still raising;
        // nothing else talks to the shards until it is done.
        let outage = Int64(parameters.outage * 1e9)
        let raising = Task { () throws -> (failures: Int, end: Int64) in
            var failures = 0
            for round in 0..<parameters.during {
                try await sleep(until: stopped + outage * Int64(round) / Int64(parameters.during))
                failures += try await shards.total("raise")
            }
            return (failures, Monotonic.now())
        }
        centre.expect(upTo: parameters.before + parameters.during * (index + 1))
        try await sleep(until: stopped + outage)

        let restartMillis = UplinkService.nowMillis()
        centre.countOnline(after: Timestamp.rfc3339(millis: restartMillis))
        let restarting = Monotonic.now()
        try await broker.start()
        let up = Monotonic.now()
        figures.outage = up - stopped
        figures.brokerStart = up - restarting
        try await wait("every unit to come back", until: deadline) { log.connected(since: stopped).units == count }
        figures.allBack = log.connected(since: stopped).last.map { $0 - up }
        let raised = try await raising.value
        report.raiseFailures += raised.failures
        figures.raisingOverran = raised.end > up
        figures.raised = count * parameters.during - raised.failures
        try await wait("every stored event at the centre", until: deadline) { centre.snapshot.complete == count }
        figures.allDelivered = centre.snapshot.lastNew.map { $0 - up }
        try await waitEmpty(shards, until: deadline)
        figures.drained = Monotonic.now() - up
        try await wait("every unit's new status at the centre", until: deadline) {
            centre.snapshot.onlineCount == count
        }
        figures.allOnline = centre.snapshot.lastOnline.map { $0 - up }
        // Stragglers: a link that drops again soon after coming back shows here.
        try await Task.sleep(for: .seconds(2))
        figures.after = ProcessFigures.Sample.of(shards.map(\.process.pid))
        figures.stillConnected = try await shards.total("connected")
        figures.flapping = log.reconnectedMoreThanOnce(since: stopped)
        figures.failedAttempts = log.state.withLock { $0.failedAttempts.reduce(0, +) } - failedBefore
        figures.returns = log.firstConnections(since: stopped).map { $0 - up }.sorted()
        figures.peakPerSecond = FleetBroker.acceptedPerSecond(
            log: parameters.brokerLog, clientPrefix: "vigie-\(devicePrefix)", since: Int(restartMillis / 1000)
        ).values.max()
        figures.duplicates = centre.snapshot.duplicates
        return figures
    }

    /// Waits until every outbox is empty: each item's deletion follows its PUBACK.
    static func waitEmpty(_ shards: [FleetShardProcess], until deadline: ContinuousClock.Instant) async throws {
        while try await shards.total("depth") > 0 {
            guard ContinuousClock.now < deadline else { throw FleetError.timeout("the outboxes to empty") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits for `condition`, checked every `interval`, until `deadline`; throws if it does not hold by then.
    static func wait(
        _ what: String, until deadline: ContinuousClock.Instant, every interval: Duration = .milliseconds(20),
        _ condition: () -> Bool
    ) async throws(FleetError) {
        let left = deadline - ContinuousClock.now
        guard await Poll.until(timeout: left, every: interval, { condition() }) else { throw .timeout(what) }
    }

    static func sleep(until time: Int64) async throws {
        let left = time - Monotonic.now()
        if left > 0 { try await Task.sleep(for: .nanoseconds(left)) }
    }

    /// The most instants (sorted, nanoseconds) in any window of this length.
    static func peak(_ sorted: [Int64], window: Int64) -> Int {
        var best = 0
        var first = 0
        for (last, time) in sorted.enumerated() {
            while time - sorted[first] >= window { first += 1 }
            best = max(best, last - first + 1)
        }
        return best
    }

    static func loadAverage() -> String {
        ProcessFigures.read("/proc/loadavg").map { $0.split(separator: " ").prefix(3).joined(separator: " ") } ?? "?"
    }
}
