import Testing
import VigieCore

@Suite("Camera link state machine")
struct CameraLinkTests {
    static func kinds(_ actions: [CameraLink.Action]) -> [String] {
        actions.map {
            switch $0 {
            case .report(let condition, _): condition.rawValue
            case .reopen: "reopen"
            case .relearn: "relearn"
            }
        }
    }

    @Test func stallThenRecovery() {
        var link = CameraLink(stallsBeforeLost: 3)
        #expect(link.frameArrived().isEmpty)
        #expect(Self.kinds(link.timedOut(seconds: 1)) == ["camera_stalled"])
        #expect(link.state == .stalled(timeouts: 1))
        #expect(Self.kinds(link.frameArrived()) == ["camera_restored", "relearn"])
        #expect(link.state == .streaming)
    }

    @Test func longStallBecomesLost() {
        var link = CameraLink(stallsBeforeLost: 3)
        _ = link.timedOut(seconds: 2)
        #expect(link.timedOut(seconds: 2).isEmpty)
        let actions = link.timedOut(seconds: 2)
        #expect(Self.kinds(actions) == ["camera_lost", "reopen"])
        #expect(actions.first == .report(.lost, reason: "stalled for 6.0 s"))
        #expect(link.state == .lost)
    }

    @Test func unplugThenReopenWithBoundedBackoff() {
        var link = CameraLink(backoff: Backoff(initial: 0.5, maximum: 4, jitter: 0.2))
        #expect(Self.kinds(link.failed(reason: "ENODEV")) == ["camera_lost", "reopen"])
        var delays: [Double] = []
        for _ in 0..<8 {
            let actions = link.failed(reason: "cannot open")
            #expect(Self.kinds(actions) == ["reopen"], "lost is reported once")
            if case .reopen(let delay) = actions.first { delays.append(delay) }
        }
        #expect(delays.allSatisfy { $0 >= 0.4 && $0 <= 4.8 })
        #expect(delays.last! >= 3.2, "backoff grows to its cap")
        #expect(Self.kinds(link.frameArrived()) == ["camera_restored", "relearn"])
        // After a recovery the backoff starts short again.
        if case .reopen(let delay) = link.failed(reason: "EIO").last { #expect(delay <= 0.6) }
    }
}
