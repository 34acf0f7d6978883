import VigieCore
import VigieStore

#if canImport(Glibc)
    import Glibc
#endif

/// The event store: `store` times a `vigie events --where` query over 30 days of minutes (43,200 activity grids)
/// in a generated store; `store-writer DIR` writes events until it is killed, saying after each commit how many
/// are committed (the child of the power-safety test in VigieStoreTests).
enum StoreBenchmark {
    static func run(_ arguments: [String]) throws {
        var template = Array("/tmp/vigie-store-bench-XXXXXX".utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let directory = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let store = try EventStore(directory: directory)
        let minutes = 30 * 24 * 60
        let start: Int64 = 1_764_460_800_000 / 60_000 - Int64(minutes)
        var random = SystemRandomNumberGenerator()
        var generated = 0
        // A street: most minutes see a few boxes somewhere, a door (the query's area) now and then.
        while generated < minutes {
            var batch = EventStore.Batch()
            for minute in generated..<min(minutes, generated + 1440) {
                var grid = ActivityGrid()
                for _ in 0..<Int.random(in: 0...40, using: &random) {
                    let door = Int.random(in: 0..<50, using: &random) == 0
                    let box =
                        door
                        ? NormalizedRect(x: 0.82, y: 0.6, width: 0.08, height: 0.2)
                        : NormalizedRect(
                            x: Double.random(in: 0..<0.7, using: &random),
                            y: Double.random(in: 0.3..<0.55, using: &random),
                            width: 0.1, height: 0.15)
                    grid.add(frame: [box])
                }
                batch.minutes.append((start + Int64(minute), grid))
            }
            try store.write(batch)
            generated += 1440
        }
        let area = NormalizedRect(x: 0.8, y: 0.6, width: 0.12, height: 0.25)
        let clock = ContinuousClock()
        var times: [Double] = []
        var spans = 0
        for _ in 0..<20 {
            let began = clock.now
            spans = try store.activity(in: area, since: nil, until: nil).count
            let elapsed = clock.now - began
            times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        times.sort()
        let counts = try store.counts()
        print(
            "store: \(counts.minutes) minutes over 30 days, file \((try store.bytesInUse()) >> 20) MiB; "
                + "--where query: median \(Benchmark.fmt(times[times.count / 2])) ms, best \(Benchmark.fmt(times[0])) ms, "
                + "\(spans) spans found")
        for suffix in ["", "-wal", "-shm"] { unlink(EventStore.path(directory: directory) + suffix) }
        rmdir(directory)
    }

    static func writer(_ arguments: [String]) throws {
        guard let directory = arguments.first else {
            print("usage: vigie-bench store-writer DIR")
            exit(2)
        }
        let store = try EventStore(directory: directory)
        let jpeg = [UInt8](repeating: 0xD8, count: 16 << 10)
        var index = 0
        while true {
            var batch = EventStore.Batch()
            for _ in 0..<5 {
                index += 1
                batch.events.append(
                    (
                        StoredEvent(
                            id: "K\(1_000_000 + index)", sequence: Int64(index), millis: Int64(index) * 1000,
                            kind: "motion", priority: Priority.alert, zone: "street",
                            boxes: [NormalizedRect(x: 0.1, y: 0.1, width: 0.2, height: 0.2)],
                            payload: Array(#"{"id":"K\#(1_000_000 + index)","seq":\#(index)}"#.utf8)),
                        jpeg
                    ))
            }
            try store.write(batch)
            // Straight to the file descriptor: nothing buffered in the process when it is killed.
            let line = Array("committed \(index)\n".utf8)
            _ = line.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
        }
    }
}
