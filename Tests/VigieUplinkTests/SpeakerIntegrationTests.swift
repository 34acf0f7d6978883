import Foundation
import Testing
import VigieCore
import VigieUplink

/// `say` and `play` against a real broker, to vigied run as a separate process, its speaker writing to a file
/// (or, for the fault, an ALSA card that does not exist).
@Suite("Speaker commands against a real broker", .serialized)
struct SpeakerIntegrationTests {
    typealias Rig = CommandIntegrationTests.Rig

    /// A folder with one clip (`attention`, 0.6 s), and the `[audio]`/`[speaker]` lines for it.
    static func speakerSection(pcm: String? = nil, outputIn subfolder: String? = nil) throws -> (
        lines: String, audioFile: URL
    ) {
        let folder = try temporaryFolder("speaker")
        let clips = folder.appendingPathComponent("clips")
        try FileManager.default.createDirectory(at: clips, withIntermediateDirectories: true)
        let tone = PCMAudio.tone(frequency: 440, seconds: 0.6, sampleRate: 16000)
        try Data(WAV.encode(tone)).write(to: clips.appendingPathComponent("attention.wav"))
        try Data("not a wav".utf8).write(to: clips.appendingPathComponent("broken.wav"))
        let audioFile = folder.appendingPathComponent((subfolder.map { $0 + "/" } ?? "") + "speaker.wav")
        let lines = """

            [audio]
            file = "\(audioFile.path)"

            [speaker]
            clips_dir = "\(clips.path)"
            chime = false
            max_text = 100
            \(pcm.map { "pcm = \"\($0)\"" } ?? "")
            """
        return (lines, audioFile)
    }

    static func reply(_ rig: Rig, _ id: String) async -> JSONValue? {
        let topic = rig.prefix + "reply/" + id
        _ = await rig.watcher.inbox.wait(timeout: 20) { $0.contains { $0.topic == topic } }
        return await rig.messages(on: topic).first?.json
    }

    static func events(_ rig: Rig, _ kind: String) async -> [JSONValue] {
        await rig.messages(on: rig.prefix + "event/" + kind).compactMap(\.json)
    }

    @Test func sayAndPlayAreQueuedAndAnnounced() async throws {
        let (lines, audioFile) = try Self.speakerSection()
        let rig = try await Rig("unit-say", uplink: lines)
        defer { rig.stop() }
        // The birth message lists the clips with their durations (not the broken one) and the capability.
        let status = await rig.messages(on: rig.prefix + "status").last?.json
        #expect(status?["capabilities"]?.arrayValue?.contains(.string("speaker")) == true)
        let clips = status?["clips"]?.arrayValue
        #expect(clips?.count == 1, "\(String(describing: status))")
        #expect(clips?.first?["id"] == .string("attention"))
        #expect(clips?.first?["duration_s"] == .number(0.6))
        try rig.send("say", #"{"id":"s1","text":"Bonjour, vous êtes filmés."}"#)
        let said = await Self.reply(rig, "s1")
        #expect(said?["ok"] == .bool(true), "\(String(describing: said))\n\(rig.daemon.output)")
        #expect(said?["result"]?["status"] == .string("queued"))
        let sayID = try #require(said?["result"]?["message"]?.stringValue)
        try rig.send("play", #"{"id":"p1","clip":"attention","repeat":2}"#)
        let played = await Self.reply(rig, "p1")
        #expect(played?["ok"] == .bool(true), "\(String(describing: played))")
        let playID = try #require(played?["result"]?["message"]?.stringValue)
        #expect(playID != sayID)

        let announced = await rig.watcher.inbox.wait(timeout: 30) { messages in
            messages.filter { $0.topic == rig.prefix + "event/announcement" }.count >= 2
        }
        #expect(announced, "\(rig.daemon.output)")
        let events = await Self.events(rig, "announcement")
        let speech = try #require(events.first { $0["details"]?["message"]?.stringValue == sayID })
        #expect(speech["details"]?["text"] == .string("Bonjour, vous êtes filmés."))
        #expect(speech["details"]?["voice"] == .string("fr"))
        #expect(speech["details"]?["why"] == .string("command:s1"))
        #expect(speech["details"]?["interrupted"] == .string("false"))
        #expect(speech["priority"] == .number(Double(Priority.routine)))
        let spoken = Double(speech["details"]?["duration_s"]?.stringValue ?? "") ?? 0
        #expect(spoken > 1 && spoken < 6, "\(speech)")
        #expect(speech["details"]?["start"]?.stringValue.flatMap { millis(rfc3339: $0) } != nil)
        let clip = try #require(events.first { $0["details"]?["message"]?.stringValue == playID })
        #expect(clip["details"]?["clip"] == .string("attention"))
        #expect(clip["details"]?["times_played"] == .string("2"))
        // Two 0.6 s plays and a 1 s gap.
        let clipSeconds = Double(clip["details"]?["duration_s"]?.stringValue ?? "") ?? 0
        #expect(clipSeconds > 2 && clipSeconds < 4, "\(clip)")
        // The last sound is in the file: the clip, a second of silence before it (the repetition).
        let audio = try WAV.parse(Array(Data(contentsOf: audioFile)), name: "speaker.wav")
        #expect(abs(audio.duration - 1.6) < 0.01)
        #expect(rig.daemon.output.contains("broken.wav"))
    }

    @Test func badRequestsGetPreciseErrorsAndChangeNothing() async throws {
        let (lines, _) = try Self.speakerSection()
        let rig = try await Rig("unit-saybad", uplink: lines)
        defer { rig.stop() }
        let cases: [(String, String, String)] = [
            ("play", #"{"id":"b1","clip":"nope"}"#, "unknown_clip"),
            ("play", #"{"id":"b2","clip":"../x"}"#, "unknown_clip"),
            ("play", #"{"id":"b3","clip":"/etc/passwd"}"#, "unknown_clip"),
            ("play", #"{"id":"b4","clip":"broken"}"#, "unknown_clip"),
            ("say", #"{"id":"b5","text":"\#(String(repeating: "trop long ", count: 20))"}"#, "text_too_long"),
            ("say", #"{"id":"b6","text":"Bonjour","lang":"zz-nothing"}"#, "unknown_voice"),
            ("say", #"{"id":"b7","text":"Bonjour","lang":"../../etc/passwd"}"#, "unknown_voice"),
            ("say", #"{"id":"b8","text":"Bonjour","repeat":99}"#, "invalid_field"),
            ("say", #"{"id":"b9"}"#, "missing_field"),
        ]
        for (name, payload, _) in cases { try rig.send(name, payload) }
        for (index, (_, _, code)) in cases.enumerated() {
            let reply = await Self.reply(rig, "b\(index + 1)")
            #expect(reply?["ok"] == .bool(false), "b\(index + 1): \(String(describing: reply))")
            #expect(reply?["error"]?["code"] == .string(code), "b\(index + 1): \(String(describing: reply))")
        }
        // Still alive and still speaking.
        try rig.send("say", #"{"id":"ok1","text":"Merci."}"#)
        #expect(await Self.reply(rig, "ok1")?["ok"] == .bool(true), "\(rig.daemon.output)")
    }

    @Test func anAbsentSoundCardIsAFaultNotACrash() async throws {
        let (lines, _) = try Self.speakerSection(pcm: "hw:99")
        let rig = try await Rig("unit-nocard", uplink: lines)
        defer { rig.stop() }
        let faulted = await rig.watcher.inbox.wait(timeout: 20) {
            $0.contains { $0.topic == rig.prefix + "event/speaker_fault" }
        }
        #expect(faulted, "\(rig.daemon.output)")
        let fault = await Self.events(rig, "speaker_fault").first
        #expect(fault?["details"]?["output"] == .string("hw:99"))
        #expect(fault?["details"]?["reason"]?.stringValue?.contains("hw:99") == true, "\(String(describing: fault))")
        try rig.send("say", #"{"id":"n1","text":"Bonjour"}"#)
        let reply = await Self.reply(rig, "n1")
        #expect(reply?["error"]?["code"] == .string("speaker_unavailable"), "\(String(describing: reply))")
        try rig.send("play", #"{"id":"n2","clip":"attention"}"#)
        #expect(await Self.reply(rig, "n2")?["error"]?["code"] == .string("speaker_unavailable"))
        try rig.send("selftest", #"{"id":"n3"}"#)
        let selftest = await Self.reply(rig, "n3")
        #expect(selftest?["ok"] == .bool(true), "\(rig.daemon.output)")
        #expect(selftest?["result"]?["speaker"]?["ok"] == .bool(false), "\(String(describing: selftest))")
        #expect(selftest?["result"]?["speaker"]?["output"] == .string("hw:99"))
    }

    /// A call acknowledgement interrupts an operator's message at once; the interrupted one is announced so.
    @Test func higherPriorityInterrupts() async throws {
        let (lines, _) = try Self.speakerSection()
        let rig = try await Rig("unit-preempt", uplink: lines)
        defer { rig.stop() }
        try rig.send("say", #"{"id":"long","text":"Attention, la cour de l'école est fermée au public.","repeat":3}"#)
        let first = await Self.reply(rig, "long")
        let firstID = try #require(first?["result"]?["message"]?.stringValue, "\(String(describing: first))")
        try await Task.sleep(for: .milliseconds(800))
        try rig.send("say", #"{"id":"ack","text":"Votre appel est transmis.","priority":"call_ack"}"#)
        let second = await Self.reply(rig, "ack")
        let secondID = try #require(second?["result"]?["message"]?.stringValue, "\(String(describing: second))")
        let both = await rig.watcher.inbox.wait(timeout: 20) { messages in
            messages.filter { $0.topic == rig.prefix + "event/announcement" }.count >= 2
        }
        #expect(both, "\(rig.daemon.output)")
        let events = await Self.events(rig, "announcement")
        let cut = try #require(events.first { $0["details"]?["message"]?.stringValue == firstID })
        #expect(cut["details"]?["interrupted"] == .string("true"))
        #expect(cut["details"]?["times_played"] == .string("0"))
        let cutSeconds = Double(cut["details"]?["duration_s"]?.stringValue ?? "") ?? 99
        #expect(cutSeconds < 2, "\(cut)")
        let ack = try #require(events.first { $0["details"]?["message"]?.stringValue == secondID })
        #expect(ack["details"]?["priority"] == .string("call_ack"))
        #expect(ack["details"]?["interrupted"] == .string("false"))
        // The interrupted message is announced before the one that interrupted it.
        #expect(events.firstIndex { $0["details"]?["message"]?.stringValue == firstID }! == 0)
    }

    /// An output that cannot be written (its folder is missing) is a fault; once it can, `speaker_restored`, and
    /// the speaker speaks again.
    @Test func aFaultedOutputIsRestored() async throws {
        let (lines, audioFile) = try Self.speakerSection(outputIn: "later")
        let rig = try await Rig("unit-restore", uplink: lines)
        defer { rig.stop() }
        #expect(
            await rig.watcher.inbox.wait(timeout: 20) {
                $0.contains { $0.topic == rig.prefix + "event/speaker_fault" }
            }, "\(rig.daemon.output)")
        try rig.send("say", #"{"id":"f1","text":"Bonjour"}"#)
        #expect(await Self.reply(rig, "f1")?["error"]?["code"] == .string("speaker_unavailable"))
        try FileManager.default.createDirectory(
            at: audioFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        #expect(
            await rig.watcher.inbox.wait(timeout: 20) {
                $0.contains { $0.topic == rig.prefix + "event/speaker_restored" }
            }, "\(rig.daemon.output)")
        try rig.send("say", #"{"id":"f2","text":"Bonjour"}"#)
        #expect(await Self.reply(rig, "f2")?["ok"] == .bool(true), "\(rig.daemon.output)")
        #expect(
            await rig.watcher.inbox.wait(timeout: 20) {
                $0.contains { $0.topic == rig.prefix + "event/announcement" }
            })
        #expect(FileManager.default.fileExists(atPath: audioFile.path))
    }
}
