import Logging
import Synchronization
import VigieCore
import VigieStore
import VigieUplink

#if canImport(Glibc)
    import Glibc
#endif

/// Uplink figures against a real broker (tools/bench-uplink starts one on loopback): the latency from raising
/// an event (durable commit included) to its arrival at a subscriber, and the outbox's throughput.
enum UplinkBenchmark {
    static func run(_ arguments: [String]) async throws {
        guard let index = arguments.firstIndex(of: "--broker"), index + 1 < arguments.count,
            let broker = BrokerURL(arguments[index + 1])
        else {
            print("usage: vigie-bench uplink --broker mqtt://127.0.0.1:PORT")
            return
        }
        var template = Array("/tmp/vigie-bench-XXXXXX".utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let folder = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let outbox = try SQLiteOutbox(directory: folder)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        var settings = UplinkSettings()
        settings.brokers = [broker]
        let uplink = try UplinkService(
            identity: .init(deviceID: "bench", role: "pole", board: "bench", firmware: "bench", capabilities: []),
            settings: settings, outbox: outbox, logger: logger)
        let service = Task { await uplink.run() }

        let arrivals = Arrivals()
        var options = MQTTClient.Options(clientID: "bench-subscriber", brokers: [broker])
        options.subscriptions = ["vigie/v1/bench/event/#"]
        let subscriber = try MQTTClient(options: options)
        let receiving = Task {
            for await event in subscriber.events {
                guard case .message(let message) = event, let json = try? JSON.parse(message.payload),
                    let id = json["id"]?.stringValue
                else { continue }
                let now = ContinuousClock.now
                arrivals.times.withLock { if $0[id] == nil { $0[id] = now } }
            }
        }
        subscriber.start()
        while true {
            let ready = await uplink.isConnected
            if ready && subscriber.isConnected { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))

        // Latency: one event at a time, 5 ms apart.
        var sent: [(String, ContinuousClock.Instant)] = []
        for _ in 0..<500 {
            let start = ContinuousClock.now
            let id = try uplink.raise(UplinkEvent(kind: "bench"))
            sent.append((id, start))
            try await Task.sleep(for: .milliseconds(5))
        }
        try await waitAll(sent.map(\.0), arrivals)
        let latencies = arrivals.times.withLock { arrived in
            sent.compactMap { id, start in arrived[id].map { milliseconds($0 - start) } }
        }.sorted()
        print("latency raise → subscriber (500 events, 5 ms apart, commit included):")
        print(
            "  p50 \(format(latencies[latencies.count / 2])) ms, p99 \(format(latencies[latencies.count * 99 / 100])) ms, max \(format(latencies.last!)) ms"
        )

        // Throughput: 2000 events as fast as they can be committed and delivered.
        let start = ContinuousClock.now
        var ids: [String] = []
        for _ in 0..<2000 { ids.append(try uplink.raise(UplinkEvent(kind: "bench"))) }
        let committed = ContinuousClock.now
        try await waitAll(ids, arrivals)
        let delivered = ContinuousClock.now
        print(
            "throughput (2000 events): \(Int(2000 / (milliseconds(committed - start) / 1000))) commits/s into the outbox, "
                + "\(Int(2000 / (milliseconds(delivered - start) / 1000))) events/s delivered end to end")
        print("outbox left: \(try outbox.count())")
        receiving.cancel()
        subscriber.stop()
        await uplink.shutdown(drain: 1)
        service.cancel()
    }

    static func waitAll(_ ids: [String], _ arrivals: Arrivals) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if arrivals.times.withLock({ arrived in ids.allSatisfy { arrived[$0] != nil } }) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        print("warning: not every event arrived within 60 s")
    }

    /// When each event id first reached the subscriber.
    final class Arrivals: Sendable {
        let times = Mutex<[String: ContinuousClock.Instant]>([:])
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) * 1e-15
    }

    static func format(_ value: Double) -> String { String((value * 100).rounded() / 100) }
}
