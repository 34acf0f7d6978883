import Logging
import Synchronization
import VigieCore

/// The events and snapshots on their way to the centre, from `raise` to the broker's acknowledgement: numbered
/// and held in memory at once (`DeliveryLedger`), committed to the outbox by a writer thread of its own
/// (`OutboxWriter`), published by `UplinkService` meanwhile. Neither `raise` nor the link ever waits on the
/// disk. It also tells the centre what the outbox dropped (`outbox_overflow`) and set aside
/// (`outbox_quarantine`), through `raise` like any event.
final class DeliveryQueue: Sendable {
    /// What `raise` and the publishing side share, under one lock held for microseconds (no I/O inside).
    struct State: Sendable {
        var ledger: DeliveryLedger
        var ids = EventIDGenerator()
        var overflow: OutboxOverflowReport
        var quarantines: QuarantineReport
        /// A task will raise the report when it is due.
        var overflowScheduled = false
        var quarantineScheduled = false
        /// `raiseStored` callers waiting for their item (the last of the event's) to be stored.
        var waiters: [(item: Int64, continuation: CheckedContinuation<Void, Never>)] = []
        /// The writer has stopped: nothing more will be stored; waiters are let go.
        var closed = false
    }

    let state: Mutex<State>
    let outbox: any Outbox
    let topics: Topics
    private let deviceID: String
    private let logger: Logger
    /// Asks the publishing side to look for something to publish; one wake-up stands for many.
    let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let writer: OutboxWriter

    init(outbox: any Outbox, topics: Topics, deviceID: String, options: UplinkService.StorageOptions, logger: Logger)
        throws
    {
        let ledger = DeliveryLedger(counters: try outbox.counters(), limits: options.memory)
        let interval = Int64(options.reportInterval * 1000)
        state = Mutex(
            State(
                ledger: ledger, overflow: OutboxOverflowReport(interval: interval),
                quarantines: QuarantineReport(interval: interval)))
        self.outbox = outbox
        self.topics = topics
        self.deviceID = deviceID
        self.logger = logger
        (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        writer = OutboxWriter(outbox: outbox, options: options, logger: logger)
        writer.start(self)
    }

    // MARK: - Adding

    /// Numbers the event, keeps it (and its snapshot) in memory, hands it to the writer and wakes the publishing
    /// side. Never waits on the disk. Returns the event id.
    @discardableResult
    func raise(_ event: UplinkEvent, millis: Int64?) -> String {
        add(event, millis: millis).id
    }

    /// Raises the event, then waits until it and its snapshot are stored (`DeliveryLedger.isStored`: committed,
    /// acknowledged, or kept in memory after a failed commit). Publishing does not wait for this.
    func raiseStored(_ event: UplinkEvent, millis: Int64?) async -> String {
        let (id, last) = add(event, millis: millis)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.closed || state.ledger.isStored(last) { return true }
                state.waiters.append((last, continuation))
                return false
            }
            if now { continuation.resume() }
        }
        return id
    }

    /// Who is told of the uplink's own reports (`storage_fault`, `outbox_overflow`, …), and those raised before
    /// anyone listened (replayed to the first listener).
    private struct Reports: Sendable {
        var observer: (@Sendable (UplinkEvent, String) -> Void)?
        var early: [(UplinkEvent, String)] = []
    }
    private let reports = Mutex(Reports())

    /// Raises one of the uplink's own reports, and tells the observer (the daemon's event sink, which keeps the
    /// last events for `vigie status`).
    @discardableResult
    func raiseReport(_ event: UplinkEvent, millis: Int64?) -> String {
        let id = raise(event, millis: millis)
        let observer = reports.withLock { reports in
            if reports.observer == nil && reports.early.count < 16 { reports.early.append((event, id)) }
            return reports.observer
        }
        observer?(event, id)
        return id
    }

    /// Tells `observer` of each report from now on, and of those raised before.
    func observeReports(_ observer: @escaping @Sendable (UplinkEvent, String) -> Void) {
        let early = reports.withLock { reports in
            reports.observer = observer
            defer { reports.early = [] }
            return reports.early
        }
        for (event, id) in early { observer(event, id) }
    }

    /// Resumes the `raiseStored` callers whose items are stored now (all of them once the queue is closed).
    func resumeStored() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty else { return [] }
            var ready: [CheckedContinuation<Void, Never>] = []
            state.waiters.removeAll { waiter in
                guard state.closed || state.ledger.isStored(waiter.item) else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Told of every event numbered here (the daemon's event store records them); those numbered before anyone
    /// listened (the uplink's reports at its start) wait for the first listener, 16 at most.
    private struct Raised: Sendable {
        var observer: (@Sendable (UplinkEvent, RaisedEvent) -> Void)?
        var early: [(UplinkEvent, RaisedEvent)] = []
    }
    private let raised = Mutex(Raised())

    func observeRaised(_ observer: @escaping @Sendable (UplinkEvent, RaisedEvent) -> Void) {
        let early = raised.withLock { raised in
            raised.observer = observer
            defer { raised.early = [] }
            return raised.early
        }
        for (event, numbered) in early { observer(event, numbered) }
    }

    private func tellRaised(_ event: UplinkEvent, _ numbered: RaisedEvent) {
        let observer = raised.withLock { raised in
            if raised.observer == nil && raised.early.count < 16 { raised.early.append((event, numbered)) }
            return raised.observer
        }
        observer?(event, numbered)
    }

    /// Sends again a stored event's payload (and its snapshot) marked `historical`, through the outbox, with no
    /// new number: `cmd/replay`.
    func resend(payload: [UInt8], kind: String, priority: Int, snapshot: [UInt8]?) {
        let now = Self.nowMillis()
        let topics = self.topics
        guard let id = UplinkEvent.id(of: payload) else { return }
        let evicted = state.withLock { state -> OutboxDrops in
            state.ledger.add(event: false) { _ in
                var items = [
                    OutboxItem(
                        topic: topics.event(kind), payload: UplinkEvent.markHistorical(payload), priority: priority,
                        kind: .event, createdAt: now)
                ]
                if let snapshot {
                    items.append(
                        OutboxItem(
                            topic: topics.snapshot(id), payload: snapshot, priority: priority, kind: .snapshot,
                            createdAt: now))
                }
                return items
            }
            return state.ledger.takeEvicted()
        }
        added()
        noteDrops(evicted, byReport: false, millis: now)
    }

    /// Numbers the event and adds its items; returns its id and the ledger id of its last item.
    private func add(_ event: UplinkEvent, millis: Int64?) -> (id: String, last: Int64) {
        let now = millis ?? Self.nowMillis()
        let topics = self.topics
        let deviceID = self.deviceID
        let (id, last, evicted, raised) = state.withLock { state -> (String, Int64, OutboxDrops, RaisedEvent?) in
            let id = state.ids.next(millis: now)
            var payload: [UInt8] = []
            let added = state.ledger.add(event: true) { sequence in
                let snapshotTopic = event.snapshot == nil ? nil : topics.snapshot(id)
                var items = [
                    OutboxItem(
                        topic: topics.event(event.kind),
                        payload: event.payload(
                            id: id, sequence: sequence ?? 0, millis: now, deviceID: deviceID,
                            snapshotTopic: snapshotTopic),
                        priority: event.priority, kind: .event, createdAt: now)
                ]
                payload = items[0].payload
                if let snapshot = event.snapshot, let snapshotTopic {
                    items.append(
                        OutboxItem(
                            topic: snapshotTopic, payload: snapshot, priority: event.priority, kind: .snapshot,
                            createdAt: now))
                }
                return items
            }
            let raised = added.sequence.map { RaisedEvent(id: id, sequence: $0, millis: now, payload: payload) }
            return (id, added.ids.last ?? 0, state.ledger.takeEvicted(), raised)
        }
        if let raised { tellRaised(event, raised) }
        added()
        noteDrops(evicted, byReport: event.kind == OutboxOverflowReport.kind, millis: now)
        return (id, last)
    }

    /// A masked snapshot as an item of its own, no sequence number: with an id of its own (the `snapshot`
    /// command), or the id of the event it belongs to (a call's picture, sent after its event) and its priority.
    func send(snapshot jpeg: [UInt8], event: (id: String, priority: Int)? = nil) -> (id: String, topic: String) {
        let now = Self.nowMillis()
        let topics = self.topics
        let (id, evicted) = state.withLock { state -> (String, OutboxDrops) in
            let id = event?.id ?? state.ids.next(millis: now)
            let priority = event?.priority ?? Priority.routine
            state.ledger.add(event: false) { _ in
                [
                    OutboxItem(
                        topic: topics.snapshot(id), payload: jpeg, priority: priority, kind: .snapshot,
                        createdAt: now)
                ]
            }
            return (id, state.ledger.takeEvicted())
        }
        added()
        noteDrops(evicted, byReport: false, millis: now)
        return (id, topics.snapshot(id))
    }

    private func added() {
        writer.poke()
        wake.yield()
        resumeStored()  // what the bounds dropped waits no more
    }

    /// Something changed that the writer must commit (a removal, a quarantine).
    func pokeWriter() { writer.poke() }

    /// Something may be ready to publish (items kept in memory while the disk failed, a retry).
    func wakePublisher() { wake.yield() }

    /// Waits until everything raised so far is committed (or delivered and forgotten while the disk failed),
    /// for up to `timeout`. Returns whether it is.
    func flush(timeout: Duration) async -> Bool {
        writer.poke()
        return await Poll.until(timeout: timeout, every: .milliseconds(5)) {
            state.withLock { $0.ledger.isWritten }
        }
    }

    /// Asks the writer to write what it can and stop, without waiting.
    func stopWriter() { writer.stop() }

    /// Writes what it can (for up to `timeout`), then stops the writer. What is only in memory then is lost.
    func close(timeout: Duration) async {
        writer.stop()
        if !(await Poll.until(timeout: timeout, every: .milliseconds(5)) { writer.isStopped }) {
            logger.error("outbox: the writer did not finish in time (disk stuck?); what it held is lost")
        }
        state.withLock { $0.closed = true }
        resumeStored()
        wake.finish()
    }

    // MARK: - Reports

    /// Counts what the memory bounds or the full outbox dropped, and reports it when a report is due.
    func noteDrops(_ drops: OutboxDrops, byReport: Bool, millis: Int64) {
        guard !drops.isEmpty else { return }
        state.withLock { $0.overflow.add(drops, byReport: byReport) }
        if !byReport { reportOverflow(millis: millis, woken: false) }
    }

    /// Counts a quarantined item (`label`: what it is), and reports it when a report is due.
    func noteQuarantine(label: String, reason: String, millis: Int64) {
        state.withLock { $0.quarantines.add(label: label, reason: reason) }
        reportQuarantines(millis: millis, woken: false)
    }

    /// Raises `outbox_overflow` if one is due, else makes sure a task will when it is.
    private func reportOverflow(millis: Int64, woken: Bool) {
        report(\.overflow, scheduled: \.overflowScheduled, millis: millis, woken: woken) {
            self.reportOverflow(millis: $0, woken: true)
        }
    }

    /// Raises `outbox_quarantine` if one is due, else makes sure a task will when it is.
    private func reportQuarantines(millis: Int64, woken: Bool) {
        report(\.quarantines, scheduled: \.quarantineScheduled, millis: millis, woken: woken) {
            self.reportQuarantines(millis: $0, woken: true)
        }
    }

    private func report<Report: ThrottledReport>(
        _ report: WritableKeyPath<State, Report>, scheduled: WritableKeyPath<State, Bool>, millis: Int64, woken: Bool,
        again: @escaping @Sendable (Int64) -> Void
    ) {
        let (event, wake) = state.withLock { state -> (UplinkEvent?, Int64?) in
            if woken { state[keyPath: scheduled] = false }
            if let event = state[keyPath: report].report(at: millis) { return (event, nil) }
            guard let due = state[keyPath: report].due, !state[keyPath: scheduled] else { return (nil, nil) }
            state[keyPath: scheduled] = true
            return (nil, due)
        }
        if let event { raiseReport(event, millis: millis) }
        if let wake { later(wake, again) }
    }

    private func later(_ millis: Int64, _ body: @escaping @Sendable (Int64) -> Void) {
        Task {
            try? await Task.sleep(for: .milliseconds(max(0, millis - Self.nowMillis())))
            body(Self.nowMillis())
        }
    }

    static func nowMillis() -> Int64 { UplinkService.nowMillis() }
}

/// An event as the uplink numbered it.
public struct RaisedEvent: Sendable, Hashable {
    public var id: String
    public var sequence: Int64
    /// When it was raised, milliseconds since the epoch.
    public var millis: Int64
    /// Its JSON as the centre receives it (without a `historical` mark).
    public var payload: [UInt8]
}
