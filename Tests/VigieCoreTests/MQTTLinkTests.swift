import Testing
import VigieCore

@Suite("MQTT link state machine")
struct MQTTLinkTests {
    /// Delays without jitter (1, 2, 4, 8, 8… s), so that a test can state them exactly.
    static let steady = Backoff(initial: 1, maximum: 8, jitter: 0)

    static func waits(_ actions: [MQTTLink.Action]) -> [Double] {
        actions.compactMap { if case .wait(let seconds) = $0 { seconds } else { nil } }
    }

    @Test func connectsWithMQTT5First() {
        var link = MQTTLink(brokers: 2, backoff: Self.steady)
        #expect(link.start() == [.connect(broker: 0, version: .v5)])
        #expect(link.state == .connecting(broker: 0, version: .v5))
        #expect(link.start().isEmpty, "started once")
        #expect(
            link.connectSucceeded(now: .seconds(1)) == [.resubscribe, .reportConnected(broker: 0, version: .v5)])
        #expect(link.state == .connected(broker: 0, version: .v5))
        #expect(link.acceptedVersions == [0: .v5])
    }

    /// How a 3.1.1-only broker answers an MQTT 5 CONNECT: RabbitMQ closes the connection; others refuse it
    /// with CONNACK 0x84 (libmosquitto also reports a 3.1.1 "unacceptable protocol version" as 0x84).
    enum Refusal: CaseIterable, Sendable {
        case closes, refusesWithReasonCode

        func apply(to link: inout MQTTLink) -> [MQTTLink.Action] {
            switch self {
            case .closes: link.connectionClosed(reason: "connection lost", now: .seconds(1))
            case .refusesWithReasonCode: link.connectRefused(code: 0x84, reason: "Unsupported protocol version")
            }
        }
    }

    @Test(arguments: Refusal.allCases)
    func autoFallsBackTo311AtOnceAndRemembersIt(refusal: Refusal) {
        var link = MQTTLink(brokers: 2, backoff: Self.steady)
        _ = link.start()
        let actions = refusal.apply(to: &link)
        #expect(actions.count == 2)
        #expect(actions.last == .connect(broker: 0, version: .v311), "same broker, no pause: it answered")
        guard case .reportConnectFailed(0, .v5, let reason) = actions.first else {
            Issue.record("the failed MQTT 5 attempt is reported: \(actions)")
            return
        }
        #expect(reason.hasSuffix("trying MQTT 3.1.1"), "\(reason)")
        #expect(link.connectSucceeded(now: .seconds(2)).last == .reportConnected(broker: 0, version: .v311))
        #expect(link.acceptedVersions == [0: .v311])

        // Dropped later: the same broker again, straight in 3.1.1.
        let dropped = link.connectionClosed(reason: "keepalive", now: .seconds(10))
        #expect(dropped == [.reportDisconnected(reason: "keepalive"), .wait(seconds: 1)])
        #expect(link.state == .backingOff(broker: 0))
        #expect(link.waited() == [.connect(broker: 0, version: .v311)])
        // A broker that is down says nothing about the version: still 3.1.1 on the next round.
        #expect(Self.waits(link.connectFailed(reason: "Connection refused")) == [2])
        #expect(link.waited() == [.connect(broker: 1, version: .v5)])
        #expect(Self.waits(link.connectFailed(reason: "Connection refused")) == [4])
        #expect(link.waited() == [.connect(broker: 0, version: .v311)])
    }

    @Test func fallbackThatFailsTooMovesOnWithBackoff() {
        var link = MQTTLink(brokers: 2, backoff: Self.steady)
        _ = link.start()
        #expect(link.connectionClosed(reason: "lost", now: .zero).last == .connect(broker: 0, version: .v311))
        let actions = link.connectionClosed(reason: "lost", now: .zero)
        #expect(Self.waits(actions) == [1], "the 3.1.1 attempt does not switch back: it backs off")
        #expect(link.state == .backingOff(broker: 1))
        #expect(link.acceptedVersions.isEmpty)
        #expect(link.waited() == [.connect(broker: 1, version: .v5)])
        #expect(Self.waits(link.connectTimedOut(seconds: 10)) == [2])
        #expect(link.waited() == [.connect(broker: 0, version: .v5)], "nothing learnt: MQTT 5 first again")
    }

    @Test func rememberedVersionRefusedSwitchesBack() {
        var link = MQTTLink(brokers: 1, backoff: Self.steady)
        _ = link.start()
        _ = link.connectRefused(code: 0x84, reason: "Unsupported protocol version")
        _ = link.connectSucceeded(now: .zero)
        _ = link.connectionClosed(reason: "broker restarted", now: .seconds(1))
        #expect(link.waited() == [.connect(broker: 0, version: .v311)])
        // The broker was replaced by one that speaks MQTT 5 only.
        let actions = link.connectRefused(code: 1, reason: "unacceptable protocol version")
        #expect(actions.last == .connect(broker: 0, version: .v5))
        #expect(link.acceptedVersions.isEmpty)
    }

    @Test(arguments: [MQTTVersion.v5, .v311])
    func fixedVersionNeverSwitches(version: MQTTVersion) {
        var link = MQTTLink(brokers: 1, protocol: .only(version), backoff: Self.steady)
        #expect(link.start() == [.connect(broker: 0, version: version)])
        let refusal = link.connectRefused(code: version == .v5 ? 0x84 : 1, reason: "unsupported")
        #expect(Self.waits(refusal) == [1])
        guard case .reportConnectFailed(0, version, let reason) = refusal.first else {
            Issue.record("\(refusal)")
            return
        }
        #expect(reason.contains("protocol = \"auto\""), "the technician is told what to change: \(reason)")
        #expect(link.waited() == [.connect(broker: 0, version: version)])
        let closed = link.connectionClosed(reason: "lost", now: .zero)
        #expect(Self.waits(closed) == [2])
        if case .reportConnectFailed(_, _, let reason) = closed.first {
            // Closing on MQTT 5 is what a 3.1.1-only broker does; closing on 3.1.1 says nothing about versions.
            #expect(reason.contains("protocol = \"auto\"") == (version == .v5), "\(reason)")
        }
        #expect(link.waited() == [.connect(broker: 0, version: version)])
        _ = link.connectSucceeded(now: .zero)
        #expect(link.acceptedVersions.isEmpty, "nothing to remember when the version is fixed")
    }

    /// Refusals that are not about the version: bad credentials, not authorised, server unavailable.
    @Test(arguments: [(MQTTVersion.v5, 0x86), (.v5, 0x87), (.v5, 0x88), (.v311, 4), (.v311, 5), (.v311, 3)])
    func otherRefusalsMoveOnWithoutSwitching(version: MQTTVersion, code: Int) {
        var link = MQTTLink(brokers: 2, protocol: version == .v5 ? .auto : .only(.v311), backoff: Self.steady)
        _ = link.start()
        let actions = link.connectRefused(code: code, reason: "refused")
        #expect(
            actions == [
                .reportConnectFailed(broker: 0, version: version, reason: "broker refused the connection: refused"),
                .wait(seconds: 1),
            ])
        #expect(link.waited() == [.connect(broker: 1, version: version)])
    }

    @Test func brokersInTurnWithCappedBackoff() {
        var link = MQTTLink(brokers: 3, backoff: Self.steady)
        var brokers = [0]
        var delays: [Double] = []
        _ = link.start()
        for attempt in 0..<7 {
            let actions =
                attempt.isMultiple(of: 2)
                ? link.connectFailed(reason: "No route to host") : link.connectTimedOut(seconds: 10)
            if !attempt.isMultiple(of: 2) { #expect(actions.first == .disconnect, "a timed-out attempt is given up") }
            delays += Self.waits(actions)
            guard case .connect(let broker, _) = link.waited().first else {
                Issue.record("no new attempt")
                return
            }
            brokers.append(broker)
        }
        #expect(brokers == [0, 1, 2, 0, 1, 2, 0, 1])
        #expect(delays == [1, 2, 4, 8, 8, 8, 8])
    }

    @Test func droppedConnectionRetriesTheSameBrokerAndBacksOffUntilStable() {
        var link = MQTTLink(brokers: 2, backoff: Self.steady, stableAfter: .seconds(30))
        _ = link.start()
        _ = link.connectFailed(reason: "down")
        _ = link.waited()
        #expect(link.state == .connecting(broker: 1, version: .v5))
        // A broker that accepts and drops at once: the delays keep growing.
        var delays: [Double] = []
        var now = Duration.seconds(100)
        for _ in 0..<3 {
            _ = link.connectSucceeded(now: now)
            now += .seconds(2)
            delays += Self.waits(link.connectionClosed(reason: "lost", now: now))
            #expect(link.waited() == [.connect(broker: 1, version: .v5)], "the broker that worked is tried first")
        }
        #expect(delays == [2, 4, 8])
        // A connection that held: the next reconnection starts short again.
        _ = link.connectSucceeded(now: now)
        #expect(Self.waits(link.connectionClosed(reason: "lost", now: now + .seconds(30))) == [1])
    }

    @Test func stopInEveryState() {
        var connected = MQTTLink(brokers: 1)
        _ = connected.start()
        _ = connected.connectSucceeded(now: .zero)
        #expect(connected.stop() == [.disconnect, .reportDisconnected(reason: "stopped")])

        var connecting = MQTTLink(brokers: 1)
        _ = connecting.start()
        #expect(connecting.stop() == [.disconnect])

        var waiting = MQTTLink(brokers: 1)
        _ = waiting.start()
        _ = waiting.connectFailed(reason: "down")
        #expect(waiting.stop().isEmpty)

        var idle = MQTTLink(brokers: 1)
        #expect(idle.stop().isEmpty)

        for var link in [connected, connecting, waiting, idle] {
            #expect(link.state == .stopped)
            #expect(link.stop().isEmpty)
            #expect(link.start().isEmpty)
            #expect(link.waited().isEmpty)
            #expect(link.connectSucceeded(now: .zero).isEmpty)
            #expect(link.connectionClosed(reason: "late", now: .zero).isEmpty)
            #expect(link.connectFailed(reason: "late").isEmpty)
        }
    }

    @Test func eventsOutOfPlaceAreIgnored() {
        var link = MQTTLink(brokers: 1, backoff: Self.steady)
        #expect(link.waited().isEmpty)
        #expect(link.connectSucceeded(now: .zero).isEmpty)
        #expect(link.connectionClosed(reason: "x", now: .zero).isEmpty)
        #expect(link.state == .idle)
        _ = link.start()
        _ = link.connectSucceeded(now: .zero)
        #expect(link.connectRefused(code: 0x84, reason: "late").isEmpty)
        #expect(link.connectTimedOut(seconds: 10).isEmpty)
        #expect(link.waited().isEmpty)
        #expect(link.state == .connected(broker: 0, version: .v5))
    }

    // MARK: - Against simulated brokers

    /// A broker as the link sees it.
    enum Peer: Sendable {
        case down
        /// Speaks MQTT 5 and 3.1.1 (mosquitto).
        case modern
        /// Speaks 3.1.1 only and closes the connection on an MQTT 5 CONNECT (RabbitMQ 3.10).
        case closesOnV5
        /// Speaks 3.1.1 only and refuses an MQTT 5 CONNECT with 0x84.
        case refusesV5
        /// Speaks MQTT 5 only and refuses 3.1.1 with return code 1.
        case v5Only
    }

    /// Runs the link against `peers` until it is connected; returns each attempt as "broker:version".
    static func negotiate(_ peers: [Peer], _ choice: MQTTProtocolChoice, link: inout MQTTLink) -> [String] {
        var attempts: [String] = []
        var actions = link.state == .idle ? link.start() : link.waited()
        while attempts.count < 20, !actions.isEmpty {
            let action = actions.removeFirst()
            switch action {
            case .connect(let broker, let version):
                attempts.append("\(broker):\(version)")
                switch (peers[broker], version) {
                case (.down, _): actions += link.connectFailed(reason: "Connection refused")
                case (.modern, _), (.closesOnV5, .v311), (.refusesV5, .v311), (.v5Only, .v5):
                    actions += link.connectSucceeded(now: .zero)
                case (.closesOnV5, .v5): actions += link.connectionClosed(reason: "lost", now: .zero)
                case (.refusesV5, .v5): actions += link.connectRefused(code: 0x84, reason: "unsupported")
                case (.v5Only, .v311): actions += link.connectRefused(code: 1, reason: "unacceptable")
                }
            case .wait: actions += link.waited()
            default: break
            }
        }
        return attempts
    }

    @Test(arguments: [
        ([Peer.modern], MQTTProtocolChoice.auto, ["0:5"]),
        ([.closesOnV5], .auto, ["0:5", "0:3.1.1"]),
        ([.refusesV5], .auto, ["0:5", "0:3.1.1"]),
        ([.v5Only], .auto, ["0:5"]),
        ([.down, .closesOnV5], .auto, ["0:5", "1:5", "1:3.1.1"]),
        ([.down, .down, .modern], .auto, ["0:5", "1:5", "2:5"]),
        ([.closesOnV5], .only(.v311), ["0:3.1.1"]),
        ([.v5Only, .modern], .only(.v311), ["0:3.1.1", "1:3.1.1"]),
        ([.refusesV5, .modern], .only(.v5), ["0:5", "1:5"]),
    ])
    func negotiation(peers: [Peer], choice: MQTTProtocolChoice, expected: [String]) {
        var link = MQTTLink(brokers: peers.count, protocol: choice, backoff: Self.steady)
        #expect(Self.negotiate(peers, choice, link: &link) == expected)
        guard case .connected = link.state else {
            Issue.record("not connected: \(link.state)")
            return
        }
    }

    /// The second connection to a 3.1.1 broker goes straight to 3.1.1; a mixed list keeps one version each.
    @Test func eachBrokerKeepsItsOwnVersion() {
        let peers: [Peer] = [.closesOnV5, .modern]
        var link = MQTTLink(brokers: 2, backoff: Self.steady)
        #expect(Self.negotiate(peers, .auto, link: &link) == ["0:5", "0:3.1.1"])
        _ = link.connectionClosed(reason: "broker restarted", now: .seconds(60))
        #expect(Self.negotiate(peers, .auto, link: &link) == ["0:3.1.1"])
        _ = link.connectionClosed(reason: "lost", now: .seconds(60))
        let failover: [Peer] = [.down, .modern]
        #expect(Self.negotiate(failover, .auto, link: &link) == ["0:3.1.1", "1:5"])
        #expect(link.acceptedVersions == [0: .v311, 1: .v5])
    }
}
