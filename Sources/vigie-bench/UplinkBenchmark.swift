import Logging
import Synchronization
import VigieCore
import VigieStore
import VigieUplink

#if canImport(Glibc)
    import Glibc
#endif

/// Uplink figures against a real broker (tools/bench-uplink starts one on loopback, and can slow the disk's
/// fsync down with tools/slow-fsync.c): how long a commit takes on the outbox's disk; the latency from raising
/// an event to the broker's acknowledgement (PUBACK) and to its arrival at a subscriber, and how long `raise`
/// holds its caller; then the throughput of a burst of events.
enum UplinkBenchmark {
    static func run(_ arguments: [String]) async throws {
        guard let index = arguments.firstIndex(of: "--broker"), index + 1 < arguments.count,
            let broker = BrokerURL(arguments[index + 1])
        else {
            print("usage: vigie-bench uplink --broker mqtt://127.0.0.1:PORT [--events 500] [--burst 1000]")
            return
        }
        func count(_ flag: String, _ fallback: Int) -> Int {
            guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return fallback }
            return Int(arguments[index + 1]) ?? fallback
        }
        let events = count("--events", 500)
        let burst = count("--burst", 1000)
        let folder = temporaryFolder()

        // The disk as the outbox sees it: a commit of one row, synchronous (fsync) like every outbox commit.
        let probeFolder = folder + "/probe"
        mkdir(probeFolder, 0o755)
        let probe = try SQLiteOutbox(directory: probeFolder)
        var commits: [Double] = []
        for _ in 0..<7 {
            let start = ContinuousClock.now
            _ = try probe.nextBoot()
            commits.append(milliseconds(ContinuousClock.now - start))
        }
        let slowFsync = getenv("VIGIE_SLOW_FSYNC_MS").map { String(cString: $0) }
        print(
            "disk: one commit takes \(format(commits.sorted()[commits.count / 2])) ms (median of 7)"
                + (slowFsync.map { ", fsync slowed down by \($0) ms (tools/slow-fsync.c)" } ?? ""))

        let outbox = try SQLiteOutbox(directory: folder)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        var settings = UplinkSettings()
        settings.brokers = [broker]
        let uplink = try UplinkService(
            identity: .init(deviceID: "bench", role: "pole", board: "bench", firmware: "bench", capabilities: []),
            settings: settings, outbox: outbox, logger: logger)
        let acknowledged = Arrivals()
        await uplink.observeDeliveries { _, payload in
            let now = ContinuousClock.now
            acknowledged.raw.withLock { $0.append((payload, now)) }
        }
        let service = Task { await uplink.run() }

        let arrived = Arrivals()
        var options = MQTTClient.Options(clientID: "bench-subscriber", brokers: [broker])
        options.subscriptions = ["vigie/v1/bench/event/#"]
        let subscriber = try MQTTClient(options: options)
        let receiving = Task {
            for await event in subscriber.events {
                guard case .message(let message) = event else { continue }
                let now = ContinuousClock.now
                arrived.raw.withLock { $0.append((message.payload, now)) }
            }
        }
        subscriber.start()
        while true {
            let ready = await uplink.isConnected
            if ready && subscriber.isConnected { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))

        // Latency: one event at a time, 5 ms apart (a busy street).
        var sent: [(id: String, start: ContinuousClock.Instant, held: Double)] = []
        for _ in 0..<events {
            let start = ContinuousClock.now
            let id = uplink.raise(UplinkEvent(kind: "bench"))
            sent.append((id, start, milliseconds(ContinuousClock.now - start)))
            try await Task.sleep(for: .milliseconds(5))
        }
        try await waitAll(sent.map(\.id), acknowledged)
        try await waitAll(sent.map(\.id), arrived)
        let acks = acknowledged.firstTimes()
        let arrivals = arrived.firstTimes()
        print("\(events) events, 5 ms apart, outbox on this disk:")
        let toPUBACK = sent.compactMap { sent in acks[sent.id].map { $0 - sent.start } }
        let toSubscriber = sent.compactMap { sent in arrivals[sent.id].map { $0 - sent.start } }
        print("  raise → PUBACK       " + percentiles(toPUBACK))
        print("  raise → subscriber   " + percentiles(toSubscriber))
        print("  raise holds caller   " + percentiles(sent.map { .milliseconds($0.held) }))

        // Throughput: a burst raised as fast as the caller can.
        let start = ContinuousClock.now
        var ids: [String] = []
        for _ in 0..<burst { ids.append(uplink.raise(UplinkEvent(kind: "bench"))) }
        let raised = ContinuousClock.now
        try await waitAll(ids, acknowledged)
        let delivered = acknowledged.firstTimes()
        let last = ids.compactMap { delivered[$0] }.max() ?? raised
        let drained = await Poll.until(timeout: .seconds(120), every: .milliseconds(5)) {
            (try? outbox.count()) == 0
        }
        let empty = ContinuousClock.now
        print("burst of \(burst) events:")
        print("  raised      \(rate(burst, raised - start)) events/s")
        print("  acknowledged \(rate(burst, last - start)) events/s (raise of the first → PUBACK of the last)")
        print(
            "  outbox empty after \(format(milliseconds(empty - start))) ms"
                + (drained ? "" : " (not drained within 120 s: \((try? outbox.count()) ?? -1) left)"))
        receiving.cancel()
        subscriber.stop()
        await uplink.shutdown(drain: 1)
        service.cancel()
    }

    static func waitAll(_ ids: [String], _ arrivals: Arrivals) async throws {
        let arrivedAll = await Poll.until(timeout: .seconds(120), every: .milliseconds(10)) {
            let times = arrivals.firstTimes()
            return ids.allSatisfy { times[$0] != nil }
        }
        if !arrivedAll { print("warning: not every event arrived within 120 s") }
    }

    /// Payloads as they came, with their time; parsed after the run so the observer stays quick.
    final class Arrivals: Sendable {
        let raw = Mutex<[(payload: [UInt8], time: ContinuousClock.Instant)]>([])

        /// When each event id came first.
        func firstTimes() -> [String: ContinuousClock.Instant] {
            var times: [String: ContinuousClock.Instant] = [:]
            for (payload, time) in raw.withLock({ $0 }) {
                guard let json = try? JSON.parse(payload), let id = json["id"]?.stringValue, times[id] == nil
                else { continue }
                times[id] = time
            }
            return times
        }
    }

    static func percentiles(_ durations: [Duration]) -> String {
        let values = durations.map(milliseconds).sorted()
        guard !values.isEmpty else { return "no samples" }
        return "p50 \(format(values[values.count / 2])) ms, p99 \(format(values[values.count * 99 / 100])) ms, "
            + "max \(format(values.last!)) ms"
    }

    static func rate(_ count: Int, _ duration: Duration) -> String {
        String(Int((Double(count) / max(milliseconds(duration), 0.001) * 1000).rounded()))
    }

    static func temporaryFolder() -> String {
        var template = Array("/tmp/vigie-bench-XXXXXX".utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) * 1e-15
    }

    static func format(_ value: Double) -> String { String((value * 100).rounded() / 100) }
}
