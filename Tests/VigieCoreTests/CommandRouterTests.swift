import Testing
import VigieCore

@Suite("Command router")
struct CommandRouterTests {
    static let topics = Topics(deviceID: "pole-7")

    static func route(_ name: String, _ payload: String, responseTopic: String? = nil, replyPrefix: String? = nil)
        -> CommandRoute
    {
        CommandRouter.route(
            topic: topics.commandPrefix + name, payload: Array(payload.utf8), responseTopic: responseTopic,
            correlationData: nil, topics: topics, replyPrefix: replyPrefix)
    }

    /// The error code of a rejected route, and where its reply goes.
    static func rejection(_ route: CommandRoute) -> (topic: String, code: String, text: String)? {
        guard case .reject(let topic, let payload, _) = route else { return nil }
        let text = String(decoding: payload, as: UTF8.self)
        let code = (try? JSON.parse(payload))?["error"]?["code"]?.stringValue ?? "?"
        return (topic, code, text)
    }

    @Test func validCommandsAreRouted() {
        #expect(
            Self.route("snapshot", #"{"id":"r1"}"#)
                == .request(.init(command: .snapshot, requestID: "r1", replyTopic: "vigie/v1/pole-7/reply/r1")))
        #expect(
            Self.route("disarm", #"{"id":"r-2","minutes":30}"#)
                == .request(
                    .init(command: .disarm(minutes: 30), requestID: "r-2", replyTopic: "vigie/v1/pole-7/reply/r-2")))
        #expect(
            Self.route("selftest", #"{"id":"x"}"#, responseTopic: "centre/replies/42", replyPrefix: "centre/replies/")
                == .request(.init(command: .selftest, requestID: "x", replyTopic: "centre/replies/42")))
    }

    /// MQTT 5 response topics are used only below the unit's reply tree or the configured prefix; anything else
    /// (another unit, the unit's own events or status, the prefix itself, a lookalike) gets `reply/<id>`.
    @Test(
        "response topics are confined",
        arguments: [
            ("vigie/v1/pole-7/reply/centre-42", nil, true),
            ("vigie/v1/pole-7/reply/a/b", nil, true),
            ("centre/replies/42", "centre/replies/", true),
            ("centre/replies/", "centre/replies/", false),
            ("centre/replies-evil/42", "centre/replies/", false),
            ("centre/replies/42", nil, false),
            ("elsewhere/x", "centre/replies/", false),
            ("vigie/v1/pole-7/reply/", nil, false),
            ("vigie/v1/pole-7/event/motion", nil, false),
            ("vigie/v1/pole-7/status", nil, false),
            ("vigie/v1/pole-70/reply/x", nil, false),
            ("vigie/v1/other/reply/x", nil, false),
            ("vigie/v1/pole-7/reply/#", nil, false),
            ("vigie/v1/pole-7/reply/+/x", nil, false),
            ("$SYS/broker/x", nil, false),
        ] as [(String, String?, Bool)])
    func responseTopicsAreConfined(responseTopic: String, replyPrefix: String?, used: Bool) {
        let expected = used ? responseTopic : "vigie/v1/pole-7/reply/r1"
        #expect(
            Self.route("arm", #"{"id":"r1"}"#, responseTopic: responseTopic, replyPrefix: replyPrefix)
                == .request(.init(command: .arm, requestID: "r1", replyTopic: expected)))
        // Refusals follow the same rule.
        #expect(
            Self.rejection(Self.route("nope", #"{"id":"r1"}"#, responseTopic: responseTopic, replyPrefix: replyPrefix))?
                .topic == expected)
    }

    @Test func otherTopicsAreIgnored() {
        #expect(
            CommandRouter.route(
                topic: "vigie/v1/other/cmd/snapshot", payload: Array(#"{"id":"a"}"#.utf8), responseTopic: nil,
                correlationData: nil, topics: Self.topics) == .ignore)
    }

    @Test(
        "malformed commands get a precise error and no effect",
        arguments: [
            ("snapshot", "{", "malformed_json", "reply/error"),
            ("snapshot", "[1,2]", "not_an_object", "reply/error"),
            ("snapshot", "{}", "missing_field", "reply/error"),
            ("snapshot", #"{"id":42}"#, "invalid_field", "reply/error"),
            ("snapshot", #"{"id":"../../x"}"#, "invalid_field", "reply/error"),
            ("snapshot", #"{"id":"a","extra":1}"#, "unknown_field", "reply/a"),
            ("disarm", #"{"id":"a","minutes":0}"#, "invalid_field", "reply/a"),
            ("disarm", #"{"id":"a","minutes":1.5}"#, "invalid_field", "reply/a"),
            ("disarm", #"{"id":"a","minutes":"10"}"#, "invalid_field", "reply/a"),
            ("self-destruct", #"{"id":"a"}"#, "unknown_command", "reply/a"),
            ("call/ack", #"{"id":"a"}"#, "unknown_command", "reply/a"),
        ])
    func malformed(name: String, payload: String, code: String, topicSuffix: String) {
        let rejected = Self.rejection(Self.route(name, payload))
        #expect(rejected?.code == code, "\(String(describing: rejected))")
        #expect(rejected?.topic == "vigie/v1/pole-7/" + topicSuffix)
    }

    @Test func oversizedPayloadIsRefused() {
        let payload = #"{"id":"a","pad":""# + String(repeating: "x", count: 9000) + #""}"#
        #expect(Self.rejection(Self.route("snapshot", payload))?.code == "payload_too_large")
    }

    @Test func wildcardResponseTopicIsNotUsed() {
        let rejected = Self.rejection(Self.route("nope", #"{"id":"a"}"#, responseTopic: "centre/#"))
        #expect(rejected?.topic == "vigie/v1/pole-7/reply/a")
    }

    /// Thousands of random and mutated payloads: no crash, and every one is either a valid request or
    /// answered with an error reply that is itself valid JSON.
    @Test func fuzzedPayloadsAreAnsweredOrRouted() throws {
        var random = SplitMix(seed: 2026)
        let seeds = [
            #"{"id":"r1"}"#, #"{"id":"r2","minutes":15}"#, #"{"id":"abc.DEF-9_"}"#,
            #"{"id":"x","nested":{"a":[1,2,{"b":null}]}}"#,
        ]
        let names = ["snapshot", "selftest", "reload", "arm", "disarm", "nope", "", "a/b/c"]
        var requests = 0
        var rejections = 0
        for round in 0..<6000 {
            var bytes: [UInt8]
            if round % 3 == 0 {
                bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = Array(seeds[Int(random.next() % UInt64(seeds.count))].utf8)
                for _ in 0..<(1 + Int(random.next() % 4)) where !bytes.isEmpty {
                    let index = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 3 {
                    case 0: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes.remove(at: index)
                    default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: index)
                    }
                }
            }
            let name = names[Int(random.next() % UInt64(names.count))]
            switch CommandRouter.route(
                topic: Self.topics.commandPrefix + name, payload: bytes, responseTopic: nil, correlationData: nil,
                topics: Self.topics)
            {
            case .request(let request):
                requests += 1
                #expect(request.replyTopic.hasPrefix("vigie/v1/pole-7/reply/"))
            case .reject(_, let payload, _):
                rejections += 1
                let reply = try JSON.parse(payload)
                #expect(reply["ok"] == .bool(false))
                #expect(reply["error"]?["code"]?.stringValue != nil)
            case .ignore:
                Issue.record("a command topic was ignored")
            }
        }
        #expect(requests > 20 && rejections > 1000, "\(requests) requests, \(rejections) rejections")
    }
}

@Suite("Uplink helpers")
struct UplinkHelperTests {
    @Test func eventIDsAreUniqueAndSorted() {
        var generator = EventIDGenerator()
        var ids: [String] = []
        for millis in [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_001, 1_700_000_000_500]
            as [Int64]
        {
            ids.append(generator.next(millis: millis))
        }
        #expect(ids.allSatisfy { $0.count == 26 })
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
    }

    @Test func timestampsAreRFC3339() {
        #expect(Timestamp.rfc3339(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(millis: 1_795_000_000_123) == "2026-11-18T11:06:40.123Z")
        #expect(Timestamp.rfc3339(millis: 951_782_400_005) == "2000-02-29T00:00:00.005Z")
    }

    @Test func brokerURLs() {
        #expect(BrokerURL("mqtt://127.0.0.1:1883") == BrokerURL("mqtt://127.0.0.1"))
        #expect(BrokerURL("mqtts://csu.example.fr")?.port == 8883)
        #expect(BrokerURL("mqtts://[::1]:9000")?.host == "::1")
        for bad in ["http://x", "mqtt://", "mqtt://host:0", "mqtt://host:99999", "mqtt://a/b", "mqtt://host:x"] {
            #expect(BrokerURL(bad) == nil, "\(bad)")
        }
    }

    @Test(
        "loopback hosts",
        arguments: [
            ("localhost", true), ("LOCALHOST", true), ("127.0.0.1", true), ("127.200.1.9", true), ("::1", true),
            ("0:0:0:0:0:0:0:1", true), ("0000:0000::0001", true), ("::ffff:127.0.0.2", true), ("128.0.0.1", false),
            ("127.0.0", false), ("127.0.0.1.5", false), ("127.0.0.256", false), ("+127.0.0.1", false),
            ("::2", false), ("1::1", false), ("::ffff:10.0.0.1", false), ("::", false), ("1:2:3:4:5:6:7:8:9", false),
            ("localhost.example.fr", false), ("my-localhost", false), ("csu.example.fr", false),
        ])
    func loopback(host: String, expected: Bool) throws {
        let url = try #require(BrokerURL(host.contains(":") ? "mqtt://[\(host)]:1883" : "mqtt://\(host):1883"))
        #expect(url.host == host)
        #expect(url.isLoopback == expected, "\(host)")
    }

    @Test func backoffGrowsToItsCapAndNeverReachesZero() {
        var backoff = Backoff(initial: 0.5, maximum: 8, jitter: 0.2)
        var random = SplitMix(seed: 1)
        let delays = (0..<12).map { _ in backoff.next(using: &random) }
        #expect(delays.allSatisfy { $0 >= 0.4 && $0 <= 9.6 })
        #expect(delays[0] < 0.61)
        #expect(delays.suffix(4).allSatisfy { $0 >= 6.4 })
        backoff.reset()
        #expect(backoff.next(using: &random) < 0.61)
    }

    @Test func telemetryCarriesQuarantinedItemsWhenTheUplinkSetsThem() throws {
        var sample = TelemetrySample()
        let without = try JSON.parse(sample.json(deviceID: "d", millis: 0, outboxDepth: 4, link: "online"))
        #expect(without["outbox_depth"]?.intValue == 4 && without["outbox_quarantined"] == nil)
        sample.outboxQuarantined = 3
        let with = try JSON.parse(sample.json(deviceID: "d", millis: 0, outboxDepth: 4, link: "online"))
        #expect(with["outbox_quarantined"]?.intValue == 3)
    }

    @Test func historicalMarking() throws {
        let payload = UplinkEvent(kind: "motion", zone: "gate").payload(
            id: "01ABC", sequence: 7, millis: 0, deviceID: "d", snapshotTopic: nil)
        let marked = try JSON.parse(UplinkEvent.markHistorical(payload))
        #expect(marked["historical"] == .bool(true))
        #expect(marked["seq"]?.intValue == 7)
        #expect(marked["zone"]?.stringValue == "gate")
        // A replayed event (marked when resent) that is also late is marked once: JSON.parse refuses duplicate keys.
        let twice = UplinkEvent.markHistorical(UplinkEvent.markHistorical(payload))
        #expect(twice == UplinkEvent.markHistorical(payload))
        #expect(try JSON.parse(twice)["historical"] == .bool(true))
    }
}

@Suite("Speaker commands")
struct SpeakerCommandRouterTests {
    static func command(_ name: String, _ payload: String) -> Command? {
        guard case .request(let request) = CommandRouterTests.route(name, payload) else { return nil }
        return request.command
    }

    static func code(_ name: String, _ payload: String) -> String? {
        CommandRouterTests.rejection(CommandRouterTests.route(name, payload))?.code
    }

    @Test func sayAndPlayAreRouted() {
        #expect(
            Self.command("say", #"{"id":"r1","text":"Bonjour à tous"}"#)
                == .say(text: "Bonjour à tous", voice: nil, priority: .command, repeatCount: 1))
        #expect(
            Self.command("say", #"{"id":"r1","text":"Hello","lang":"en-gb","priority":"call_ack","repeat":3}"#)
                == .say(text: "Hello", voice: "en-gb", priority: .callAcknowledgement, repeatCount: 3))
        #expect(Self.command("play", #"{"id":"r2","clip":"police_1"}"#) == .play(clip: "police_1", repeatCount: 1))
        #expect(Self.command("play", #"{"id":"r2","clip":"a","repeat":5}"#) == .play(clip: "a", repeatCount: 5))
        // A long text reaches the speaker, whose own limit gives the precise error.
        let long = String(repeating: "a", count: 3000)
        #expect(Self.command("say", #"{"id":"r3","text":"\#(long)"}"#) != nil)
    }

    @Test(
        arguments: [
            ("say", #"{"id":"r1"}"#, "missing_field"),
            ("say", #"{"id":"r1","text":3}"#, "invalid_field"),
            ("say", #"{"id":"r1","text":"a","lang":"../../etc"}"#, "unknown_voice"),
            ("say", #"{"id":"r1","text":"a","lang":7}"#, "invalid_field"),
            ("say", #"{"id":"r1","text":"a","priority":"urgent"}"#, "invalid_field"),
            ("say", #"{"id":"r1","text":"a","repeat":0}"#, "invalid_field"),
            ("say", #"{"id":"r1","text":"a","repeat":6}"#, "invalid_field"),
            ("say", #"{"id":"r1","text":"a","repeat":1.5}"#, "invalid_field"),
            ("say", #"{"id":"r1","text":"a","volume":3}"#, "unknown_field"),
            ("play", #"{"id":"r1"}"#, "missing_field"),
            ("play", #"{"id":"r1","clip":"../x"}"#, "unknown_clip"),
            ("play", #"{"id":"r1","clip":"/etc/passwd"}"#, "unknown_clip"),
            ("play", #"{"id":"r1","clip":"a.wav"}"#, "unknown_clip"),
            ("play", #"{"id":"r1","clip":""}"#, "unknown_clip"),
            ("play", #"{"id":"r1","clip":["a"]}"#, "invalid_field"),
            ("play", #"{"id":"r1","clip":"a","text":"b"}"#, "unknown_field"),
        ])
    func malformedSpeakerCommandsAreRefused(name: String, payload: String, code: String) {
        #expect(Self.code(name, payload) == code)
    }

    @Test func callCommandsAreRouted() {
        #expect(Self.command("call_ack", #"{"id":"r1"}"#) == .callAcknowledge(call: nil, message: nil))
        #expect(
            Self.command("call_ack", #"{"id":"r1","call":"0193a1b2-17","message":"Restez là"}"#)
                == .callAcknowledge(call: "0193a1b2-17", message: "Restez là"))
        #expect(Self.command("call_end", #"{"id":"r2"}"#) == .callEnd(call: nil))
        #expect(Self.command("call_end", #"{"id":"r2","call":"c1"}"#) == .callEnd(call: "c1"))
    }

    @Test(
        arguments: [
            ("call_ack", #"{"id":"r1","call":7}"#, "invalid_field"),
            ("call_ack", #"{"id":"r1","call":"a/b"}"#, "invalid_field"),
            ("call_ack", #"{"id":"r1","message":""}"#, "invalid_field"),
            ("call_ack", #"{"id":"r1","message":"\#(String(repeating: "a", count: 501))"}"#, "invalid_field"),
            ("call_ack", #"{"id":"r1","text":"b"}"#, "unknown_field"),
            ("call_end", #"{"id":"r1","message":"b"}"#, "unknown_field"),
            ("call_end", #"{"call":"c1"}"#, "missing_field"),
        ])
    func malformedCallCommandsAreRefused(name: String, payload: String, code: String) {
        #expect(Self.code(name, payload) == code)
    }

    @Test func storeCommandsAreRouted() {
        #expect(Self.command("replay", #"{"id":"r1","from_seq":4,"to_seq":6}"#) == .replay(from: 4, to: 6))
        #expect(Self.command("replay", #"{"id":"r1","from_seq":9,"to_seq":9}"#) == .replay(from: 9, to: 9))
        #expect(
            Self.command("alert_confirm", #"{"id":"r2","event":"01JD8","operator":"agent 12","note":"rixe"}"#)
                == .alertVerdict(AlertVerdict(event: "01JD8", confirmed: true, operatorName: "agent 12", note: "rixe")))
        #expect(
            Self.command("alert_dismiss", #"{"id":"r3","event":"01JD8","operator":"Zoé"}"#)
                == .alertVerdict(AlertVerdict(event: "01JD8", confirmed: false, operatorName: "Zoé")))
        #expect(
            Command.alertVerdict(AlertVerdict(event: "e", confirmed: false, operatorName: "o")).name == "alert_dismiss")
    }

    @Test(
        arguments: [
            ("replay", #"{"id":"r1","to_seq":6}"#, "missing_field"),
            ("replay", #"{"id":"r1","from_seq":4}"#, "missing_field"),
            ("replay", #"{"id":"r1","from_seq":0,"to_seq":6}"#, "invalid_field"),
            ("replay", #"{"id":"r1","from_seq":"4","to_seq":6}"#, "invalid_field"),
            ("replay", #"{"id":"r1","from_seq":7,"to_seq":6}"#, "invalid_field"),
            ("replay", #"{"id":"r1","from_seq":1,"to_seq":1000}"#, "ok"),
            ("replay", #"{"id":"r1","from_seq":1,"to_seq":1001}"#, "range_too_large"),
            ("replay", #"{"id":"r1","from_seq":1,"to_seq":2,"all":true}"#, "unknown_field"),
            ("alert_confirm", #"{"id":"r1","operator":"a"}"#, "missing_field"),
            ("alert_confirm", #"{"id":"r1","event":"e1"}"#, "missing_field"),
            ("alert_confirm", #"{"id":"r1","event":"../e","operator":"a"}"#, "invalid_field"),
            ("alert_dismiss", #"{"id":"r1","event":"e1","operator":"  "}"#, "invalid_field"),
            ("alert_dismiss", #"{"id":"r1","event":"e1","operator":"a\u0007b"}"#, "invalid_field"),
            (
                "alert_dismiss", #"{"id":"r1","event":"e1","operator":"\#(String(repeating: "a", count: 65))"}"#,
                "invalid_field"
            ),
            ("alert_dismiss", #"{"id":"r1","event":"e1","operator":"a","note":42}"#, "invalid_field"),
            ("alert_dismiss", #"{"id":"r1","event":"e1","operator":"a","verdict":"no"}"#, "unknown_field"),
        ])
    func malformedStoreCommandsAreRefused(name: String, payload: String, code: String) {
        #expect((Self.code(name, payload) ?? "ok") == code)
    }
}
