import Synchronization
import Testing
import VigieCore
import VigieStore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Event store")
struct EventStoreTests {
    static let day: Int64 = 86_400_000
    /// 2025-11-30 00:00 UTC: the tests' clock, never the wall's.
    static let now: Int64 = 1_764_460_800_000

    static func event(
        _ index: Int, millis: Int64, kind: String = "motion", zone: String? = "street", boxes: [NormalizedRect] = []
    ) -> StoredEvent {
        StoredEvent(
            id: "E\(100_000 + index)", sequence: Int64(index), millis: millis, kind: kind, priority: Priority.alert,
            zone: zone, boxes: boxes, payload: Array(#"{"id":"E\#(100_000 + index)","seq":\#(index)}"#.utf8))
    }

    static func write(_ store: EventStore, _ events: [(StoredEvent, [UInt8]?)], minutes: [(Int64, ActivityGrid)] = [])
        throws
    {
        var batch = EventStore.Batch()
        batch.events = events.map { ($0.0, $0.1) }
        batch.minutes = minutes.map { ($0.0, $0.1) }
        try store.write(batch)
    }

    @Test func eventsAreKeptAndFoundByKindTimeAndArea() throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        let left = NormalizedRect(x: 0.1, y: 0.5, width: 0.1, height: 0.2)
        let right = NormalizedRect(x: 0.7, y: 0.5, width: 0.1, height: 0.2)
        try Self.write(
            store,
            [
                (Self.event(1, millis: Self.now - 3_600_000, boxes: [left]), [0xFF, 0xD8, 1, 2]),
                (Self.event(2, millis: Self.now - 1_800_000, boxes: [right, left]), nil),
                (Self.event(3, millis: Self.now - 600_000, kind: "camera_lost", zone: nil), nil),
                (Self.event(4, millis: Self.now - 60_000, boxes: [right]), nil),
            ])
        #expect(try store.events(EventFilter()).map(\.sequence) == [1, 2, 3, 4])
        #expect(try store.events(EventFilter(kinds: ["camera_lost"])).map(\.id) == ["E100003"])
        #expect(try store.events(EventFilter(since: Self.now - 1_800_000, until: Self.now - 60_000)).count == 2)
        let area = NormalizedRect(x: 0, y: 0.4, width: 0.3, height: 0.4)
        #expect(try store.events(EventFilter(area: area)).map(\.sequence) == [1, 2], "boxes overlapping the area")
        #expect(try store.events(EventFilter()).first?.snapshotBytes == 4)
        #expect(try store.snapshot(of: "E100001") == [0xFF, 0xD8, 1, 2])
        #expect(try store.snapshot(of: "E100002") == nil)
        // Written twice (a retry after a failed commit): kept once.
        try Self.write(store, [(Self.event(1, millis: Self.now - 3_600_000), nil)])
        #expect(try store.counts().events == 4)
    }

    @Test func verdictsAreRecordedWithTheAlert() throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        try Self.write(store, [(Self.event(1, millis: Self.now), nil), (Self.event(2, millis: Self.now), nil)])
        let verdict = AlertVerdict(event: "E100001", confirmed: true, operatorName: "agent 7", note: "fight")
        #expect(try store.record(verdict, millis: Self.now + 5000))
        #expect(!(try store.record(AlertVerdict(event: "E999", confirmed: true, operatorName: "a"), millis: 0)))
        var events = try store.events(EventFilter())
        #expect(
            events[0].verdict
                == StoredEvent.Verdict(confirmed: true, operatorName: "agent 7", note: "fight", millis: Self.now + 5000)
        )
        #expect(events[1].verdict == nil)
        // The last verdict is the one shown.
        #expect(try store.record(AlertVerdict(event: "E100001", confirmed: false, operatorName: "chef"), millis: 9))
        events = try store.events(EventFilter())
        #expect(events[0].verdict?.confirmed == false && events[0].verdict?.operatorName == "chef")
        // A centre that repeats itself: the latest verdicts are kept, never more than a few per event.
        for index in 0..<40 {
            _ = try store.record(
                AlertVerdict(event: "E100002", confirmed: true, operatorName: "op \(index)"), millis: 10)
        }
        var kept: [String] = []
        try SQLiteShell.rows(store.path, "SELECT operator FROM verdicts WHERE event = 'E100002' ORDER BY rowid") {
            kept.append($0)
        }
        #expect(kept == (24..<40).map { "op \($0)" })
        #expect(try store.events(EventFilter())[1].verdict?.operatorName == "op 39")
    }

    /// Stamped while the clock was wrong (a year ahead, before NTP): purged, not kept a year.
    @Test func eventsFromAWrongClockAheadArePurged() throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        var grid = ActivityGrid()
        grid.add(frame: [NormalizedRect(x: 0, y: 0, width: 1, height: 1)])
        let ahead = Self.now + 365 * Self.day
        try Self.write(
            store,
            [
                (Self.event(1, millis: Self.now), nil), (Self.event(2, millis: Self.now + 3_600_000), nil),
                (Self.event(3, millis: ahead), [1]),
            ],
            minutes: [(Self.now / 60_000, grid), (ahead / 60_000, grid)])
        let result = try store.purge(now: Self.now, retentionMillis: 30 * Self.day, maximumBytes: 1 << 30)
        #expect(result.events == 1 && result.minutes == 1)
        #expect(try store.events(EventFilter()).map(\.id) == ["E100001", "E100002"])
        #expect(try store.counts().snapshots == 0)
    }

    @Test func replayFindsEventsBySequenceNumber() throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        try Self.write(store, (1...20).map { (Self.event($0, millis: Self.now + Int64($0)), $0 == 5 ? [9, 9] : nil) })
        let found = try store.events(fromSequence: 4, to: 6)
        #expect(found.map(\.event.sequence) == [4, 5, 6])
        #expect(found.map(\.snapshot) == [nil, [9, 9], nil])
        #expect(found[0].event.payload == Array(#"{"id":"E100004","seq":4}"#.utf8))
        #expect(try store.events(fromSequence: 30, to: 40).isEmpty)
    }

    @Test func activityFindsWhenSomethingMovedInAnArea() throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        let minute = Self.now / 60_000
        var door = ActivityGrid()
        for _ in 0..<7 { door.add(frame: [NormalizedRect(x: 0.8, y: 0.8, width: 0.1, height: 0.1)]) }
        var street = ActivityGrid()
        street.add(frame: [NormalizedRect(x: 0.1, y: 0.1, width: 0.2, height: 0.1)])
        // Minutes 0, 1, 2 and 10 at the door; 5 in the street; 2 also in the street.
        var both = door
        both.merge(street)
        try Self.write(
            store, [],
            minutes: [
                (minute, door), (minute + 1, door), (minute + 2, both), (minute + 5, street), (minute + 10, door),
            ])
        let doorArea = NormalizedRect(x: 0.75, y: 0.75, width: 0.25, height: 0.25)
        let spans = try store.activity(in: doorArea, since: nil, until: nil)
        #expect(
            spans == [
                ActivitySpan(start: Self.now, end: Self.now + 180_000, minutes: 3, peak: 7),
                ActivitySpan(start: Self.now + 600_000, end: Self.now + 660_000, minutes: 1, peak: 7),
            ])
        let streetArea = NormalizedRect(x: 0, y: 0, width: 0.3, height: 0.3)
        #expect(try store.activity(in: streetArea, since: nil, until: nil).map(\.minutes) == [1, 1])
        #expect(try store.activity(in: doorArea, since: Self.now + 60_000, until: Self.now + 120_000).count == 1)
        #expect(
            try store.activity(in: NormalizedRect(x: 0.4, y: 0.4, width: 0.1, height: 0.1), since: nil, until: nil)
                .isEmpty)
        // A minute written again (the camera restarted within it) adds up.
        try Self.write(store, [], minutes: [(minute + 10, door)])
        #expect(try store.activity(in: doorArea, since: Self.now + 600_000, until: nil).first?.peak == 14)
    }

    @Test func retentionPurgesByAgeWithATestClock() throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        var grid = ActivityGrid()
        grid.add(frame: [NormalizedRect(x: 0, y: 0, width: 1, height: 1)])
        // One event and one minute a day for 40 days, the newest today.
        try Self.write(
            store, (0..<40).map { (Self.event($0, millis: Self.now - Int64($0) * Self.day), [1, 2, 3]) },
            minutes: (0..<40).map { ((Self.now - Int64($0) * Self.day) / 60_000, grid) })
        #expect(try store.record(AlertVerdict(event: "E100035", confirmed: true, operatorName: "a"), millis: 0))
        let result = try store.purge(now: Self.now, retentionMillis: 30 * Self.day, maximumBytes: 1 << 30)
        // Day 30 is exactly 30 days old: kept (older than the retention goes).
        #expect(result.events == 9 && result.minutes == 9 && result.forSize == 0)
        let kept = try store.events(EventFilter())
        #expect(kept.count == 31)
        #expect(kept.allSatisfy { $0.millis >= Self.now - 30 * Self.day })
        #expect(try store.counts().snapshots == 31)
        #expect(
            try store.activity(in: NormalizedRect(x: 0, y: 0, width: 1, height: 1), since: nil, until: nil).count == 31)
        // A millisecond later, day 30 is too old; a day later, day 29; then nothing more until the next day.
        let later = [Self.now + 1, Self.now + Self.day + 1, Self.now + Self.day + 2]
        #expect(
            try later.map { try store.purge(now: $0, retentionMillis: 30 * Self.day, maximumBytes: 1 << 30).events }
                == [1, 1, 0])
    }

    @Test func aSizeCapPurgesTheOldestFirst() throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        // 200 events with a 10 KiB snapshot each, one a minute: about 2 MiB.
        let jpeg = [UInt8](repeating: 0xAB, count: 10 << 10)
        for chunk in stride(from: 0, to: 200, by: 50) {
            try Self.write(
                store, (chunk..<chunk + 50).map { (Self.event($0, millis: Self.now + Int64($0) * 60_000), jpeg) })
        }
        let before = try store.bytesInUse()
        #expect(before > 2_000_000)
        let cap: Int64 = 512 << 10
        let result = try store.purge(now: Self.now + 200 * 60_000, retentionMillis: 30 * Self.day, maximumBytes: cap)
        #expect(try store.bytesInUse() <= cap)
        #expect(result.forSize == result.events && result.events > 100)
        let kept = try store.events(EventFilter()).compactMap(\.sequence)
        #expect(!kept.isEmpty)
        #expect(kept == Array(Int64(200 - kept.count)..<200), "the newest are kept, the oldest went")
        #expect(try store.counts().snapshots == kept.count)
    }

    @Test func auditsAreKept() throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        let record = AuditRecord(
            action: .export(since: Self.now - Self.day, until: Self.now, events: 3, snapshots: 2, output: "/tmp/x"),
            user: "tech", reason: "réquisition 2026-117")
        try store.record(record, event: "E1", millis: Self.now)
        let audits = try store.audits()
        #expect(audits.count == 1)
        #expect(audits[0].user == "tech" && audits[0].reason == "réquisition 2026-117" && audits[0].kind == "export")
        #expect(audits[0].details.contains("events=3") && audits[0].event == "E1")
    }

    @Test func aDamagedStoreIsSetAsideAndANewOneMade() throws {
        let directory = SQLiteOutboxTests.directory()
        do {
            let store = try EventStore(directory: directory)
            try Self.write(store, [(Self.event(1, millis: Self.now), nil)])
        }
        let path = EventStore.path(directory: directory)
        let garbage = [UInt8](repeating: 0x5A, count: 8192)
        let fd = open(path, O_WRONLY | O_TRUNC)
        #expect(fd >= 0)
        _ = garbage.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        unlink(path + "-wal")
        unlink(path + "-shm")
        #expect(throws: SQLiteError.self) { try EventStore(directory: directory) }
        let (store, recovery) = try EventStore.openRecovering(directory: directory, millis: Self.now)
        let aside = try #require(recovery?.setAside)
        #expect(aside.hasPrefix(path + ".corrupt-"))
        #expect(access(aside, F_OK) == 0)
        #expect(try store.counts().events == 0)
        try Self.write(store, [(Self.event(2, millis: Self.now), nil)])
        #expect(try store.counts().events == 1)
        // The damaged copy holds pictures too: kept for analysis within the retention, deleted after it.
        let wallClock = Int64(time(nil)) * 1000
        let kept = EventStore.purgeSetAside(directory: directory, retentionMillis: 30 * Self.day, nowMillis: wallClock)
        #expect(kept.isEmpty && access(aside, F_OK) == 0)
        let deleted = EventStore.purgeSetAside(
            directory: directory, retentionMillis: 30 * Self.day, nowMillis: wallClock + 31 * Self.day)
        #expect(deleted.count == 1 && access(aside, F_OK) != 0)
        #expect(try store.counts().events == 1, "the store in use is not touched")
    }

    @Test func aReaderOpensWithoutWriting() throws {
        let directory = SQLiteOutboxTests.directory()
        #expect(throws: SQLiteError.self) { try EventStore(readingFrom: directory) }
        let store = try EventStore(directory: directory)
        try Self.write(store, [(Self.event(1, millis: Self.now), nil)])
        let reader = try EventStore(readingFrom: directory)
        #expect(try reader.events(EventFilter()).map(\.id) == ["E100001"])
        #expect(throws: SQLiteError.self) { try reader.purge(now: 0, retentionMillis: 0, maximumBytes: 0) }
    }

    @Test func theRecorderCommitsOffTheCallersThread() async throws {
        let store = try EventStore(directory: SQLiteOutboxTests.directory())
        let recorder = EventRecorder(store: store)
        defer { recorder.stop() }
        for index in 1...500 { recorder.record(Self.event(index, millis: Self.now + Int64(index)), snapshot: nil) }
        var grid = ActivityGrid()
        grid.add(frame: [NormalizedRect(x: 0, y: 0, width: 0.1, height: 0.1)])
        recorder.record(minute: Self.now / 60_000, grid: grid)
        #expect(await recorder.flush())
        #expect(try store.counts().events == 500 && store.counts().minutes == 1)
        #expect(try store.events(EventFilter()).compactMap(\.sequence) == Array(1...500))
    }

    /// The store opened on the recorder's thread (a long check after a power cut): what is recorded meanwhile
    /// waits, and is committed once it is open, in order.
    @Test func eventsRecordedWhileTheStoreOpensAreKeptOnceItIs() async throws {
        let directory = SQLiteOutboxTests.directory()
        let release = Atomic<Bool>(false)
        let recorder = EventRecorder(opening: { () throws(SQLiteError) -> EventStore in
            Poll.blockingUntil(timeout: .seconds(30), every: .milliseconds(5)) { release.load(ordering: .acquiring) }
            return try EventStore(directory: directory)
        })
        defer { recorder.stop() }
        for index in 1...20 {
            recorder.record(Self.event(index, millis: Self.now + Int64(index)), snapshot: [0xFF, 0xD8])
        }
        #expect(recorder.isOpening && !recorder.cannotOpen && recorder.store == nil)
        #expect(await recorder.opened(timeout: .milliseconds(100)) == nil, "still opening")
        #expect(await recorder.flush(timeout: .milliseconds(100)) == false, "nothing can be committed yet")
        release.store(true, ordering: .releasing)
        let store = try #require(await recorder.opened(timeout: .seconds(10)))
        #expect(!recorder.isOpening)
        #expect(await recorder.flush())
        #expect(try store.events(EventFilter()).compactMap(\.sequence) == Array(1...20))
        #expect(try store.snapshot(of: "E100001") == [0xFF, 0xD8])
    }

    /// A store that cannot be opened (a folder not there yet): told once, tried again at its pace however many
    /// events arrive, and once it has opened and written for `settle` the recovery is told and what waited is in it.
    @Test func aStoreThatCannotBeOpenedIsTriedAgainAndToldOnce() async throws {
        let directory = SQLiteOutboxTests.directory() + "/later"
        let attempts = Atomic<Int>(0)
        let recorder = EventRecorder(
            opening: { () throws(SQLiteError) -> EventStore in
                attempts.add(1, ordering: .relaxed)
                return try EventStore(directory: directory)
            }, retry: .milliseconds(40), settle: .milliseconds(300))
        defer { recorder.stop() }
        let told = Mutex<[String]>([])
        recorder.onProblems(
            failure: { problem in told.withLock { $0.append(problem.opening ? "open" : "write") } },
            recovery: { recovery in
                told.withLock { $0.append("recovered \(recovery.opening ? "open" : "write") \(recovery.written)") }
            })
        // A burst of events does not make it try faster than every `openRetry` (200 ms here).
        let before = attempts.load(ordering: .relaxed)
        let started = ContinuousClock.now
        for index in 1...50 {
            recorder.record(Self.event(index, millis: Self.now + Int64(index)), snapshot: nil)
            try await Task.sleep(for: .milliseconds(10))
        }
        let elapsed = ContinuousClock.now - started
        let during = attempts.load(ordering: .relaxed) - before
        #expect(during >= 1 && Double(during) <= elapsed / .milliseconds(200) + 2, "\(during) attempts in \(elapsed)")
        #expect(recorder.cannotOpen && recorder.store == nil && !recorder.isIdle)
        #expect(told.withLock { $0 } == ["open"], "one report for the episode")
        #expect(mkdir(directory, 0o700) == 0)
        let store = try #require(await recorder.opened(timeout: .seconds(10)))
        #expect(await recorder.flush())
        #expect(try store.events(EventFilter()).count == 50)
        #expect(await Poll.until(timeout: .seconds(5)) { told.withLock { $0 }.count == 2 })
        #expect(told.withLock { $0 } == ["open", "recovered open 50"])
        #expect(!recorder.cannotOpen)
    }

    /// While the disk fails, waiting snapshots stay within their byte bound: the oldest events lose their picture,
    /// none is lost.
    @Test func waitingSnapshotsAreBoundedInBytes() {
        var batch = EventStore.Batch()
        for index in 1...10 {
            batch.events.append((Self.event(index, millis: Self.now), [UInt8](repeating: 1, count: 100)))
        }
        batch.events.append((Self.event(11, millis: Self.now), nil))
        EventRecorder.bound(&batch, snapshotBytes: 350)
        #expect(batch.events.count == 11)
        #expect(
            batch.events.map { $0.snapshot != nil } == Array(repeating: false, count: 7) + [true, true, true, false])
    }
}
