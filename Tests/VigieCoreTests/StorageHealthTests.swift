import Testing
import VigieCore

@Suite("Storage health")
struct StorageHealthTests {
    static func details(_ event: UplinkEvent?) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (event?.details ?? []).map { ($0.key, $0.value) })
    }

    /// One `storage_fault` per episode, however many writes fail; `storage_recovered` once writes have worked
    /// for the settling time.
    @Test func oneFaultAndOneRecoveryPerEpisode() {
        var health = StorageHealth(settle: 5_000)
        #expect(health.succeeded(items: 3, removalsFailing: false, at: 0) == nil, "healthy: nothing to say")
        let fault = health.failed(.store, reason: "database or disk is full", heldInMemory: 2, at: 1_000)
        #expect(fault?.kind == "storage_fault" && fault?.priority == Priority.fault)
        #expect(
            Self.details(fault) == ["operation": "store", "reason": "database or disk is full", "held_in_memory": "2"])
        for attempt in 1...50 {
            #expect(health.failed(.store, reason: "full", heldInMemory: 2, at: 1_000 + Int64(attempt) * 100) == nil)
        }
        #expect(health.succeeded(items: 7, removalsFailing: false, at: 20_000) == nil, "settling")
        #expect(health.settlesAt == 25_000)
        #expect(health.succeeded(items: 1, removalsFailing: false, at: 24_999) == nil)
        let recovered = health.succeeded(items: 0, removalsFailing: false, at: 25_000)
        #expect(recovered?.kind == "storage_recovered")
        #expect(Self.details(recovered) == ["duration_s": "24.0", "failed_writes": "51", "written": "8"])
        #expect(health.isHealthy && health.settlesAt == nil)
    }

    /// A disk that fails again while settling stays in the same episode: no second report.
    @Test func flappingDiskIsOneEpisode() {
        var health = StorageHealth(settle: 5_000)
        #expect(health.failed(.store, reason: "I/O error", heldInMemory: 0, at: 0) != nil)
        for second in 1...20 {
            let at = Int64(second) * 1_000
            #expect(health.succeeded(items: 1, removalsFailing: false, at: at) == nil)
            #expect(health.settlesAt == at + 5_000)
            #expect(health.failed(.store, reason: "I/O error", heldInMemory: 0, at: at + 500) == nil)
        }
        #expect(!health.isHealthy)
    }

    /// A full disk that still takes the sequence counter (a commit with no item) has not recovered: only
    /// storing an item again starts the settling.
    @Test func commitsWithoutItemsDoNotEndAStoreFault() {
        var health = StorageHealth(settle: 1_000)
        _ = health.failed(.store, reason: "full", heldInMemory: 0, at: 0)
        #expect(health.succeeded(items: 0, removalsFailing: false, at: 5_000) == nil)
        #expect(health.settlesAt == nil)
        #expect(health.succeeded(items: 0, removalsFailing: false, at: 50_000) == nil)
        #expect(health.succeeded(items: 2, removalsFailing: false, at: 60_000) == nil)
        #expect(health.succeeded(items: 0, removalsFailing: false, at: 61_000)?.kind == "storage_recovered")
    }

    /// Removals still failing hold the episode open even though new items are written.
    @Test func failingRemovalsHoldTheEpisode() {
        var health = StorageHealth(settle: 0)
        let fault = health.failed(.remove, reason: "constraint failed", heldInMemory: 0, at: 0)
        #expect(Self.details(fault)["operation"] == "remove")
        #expect(health.succeeded(items: 5, removalsFailing: true, at: 60_000) == nil)
        #expect(health.succeeded(items: 0, removalsFailing: false, at: 61_000)?.kind == "storage_recovered")
    }

    @Test func clockSteppedBackDoesNotHoldTheEpisode() {
        var health = StorageHealth(settle: 60_000)
        _ = health.failed(.store, reason: "full", heldInMemory: 0, at: 5_000_000)
        #expect(health.succeeded(items: 1, removalsFailing: false, at: 5_001_000) == nil)
        #expect(health.succeeded(items: 0, removalsFailing: false, at: 1_000)?.kind == "storage_recovered")
    }
}
