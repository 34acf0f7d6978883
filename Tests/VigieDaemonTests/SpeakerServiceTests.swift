import Foundation
import Logging
import Testing
import VigieCore

@testable import VigieDaemon

/// The speaker service with a clock the test sets, its output a WAV file: the replies' codes and the events.
@Suite("Speaker service")
struct SpeakerServiceTests {
    static func service(
        minuteOfDay: Int = 12 * 60, _ change: (inout SpeakerSettings) -> Void = { _ in }
    ) throws -> (SpeakerService, EventSink, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigie-speaker-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let clips = folder + "/clips"
        try FileManager.default.createDirectory(atPath: clips, withIntermediateDirectories: true)
        try Data(WAV.encode(PCMAudio.tone(frequency: 440, seconds: 0.2, sampleRate: 8000))).write(
            to: URL(fileURLWithPath: clips + "/bip.wav"))
        var settings = SpeakerSettings(output: .file(path: folder + "/out.wav"))
        settings.clipsDirectory = clips
        settings.queue.chime = false
        change(&settings)
        let logger = Logger(label: "test")
        let events = EventSink(uplink: nil, logger: logger)
        let service = SpeakerService(
            settings: settings, clips: SpeakerService.loadClips(settings, logger: logger), events: events,
            logger: logger, clock: { (1_800_000_000, minuteOfDay) })
        return (service, events, folder)
    }

    static func code(_ result: Result<String, SpeakerService.Refusal>) -> String {
        switch result {
        case .success: "queued"
        case .failure(let refusal): refusal.code
        }
    }

    @Test func quietHoursLetOnlyCallAcknowledgementsThrough() async throws {
        let (service, events, _) = try Self.service(minuteOfDay: 23 * 60) {
            $0.queue.quietHours = QuietHours("22:00-07:00")
        }
        await service.start()
        let command = await service.say(text: "Bonjour", voice: nil, priority: .command, repeatCount: 1, why: "c")
        #expect(Self.code(command) == "quiet_hours")
        #expect(
            Self.code(await service.play(clip: "bip", repeatCount: 1, priority: .command, why: "c")) == "quiet_hours")
        let ack = await service.say(
            text: "Votre appel est transmis", voice: nil, priority: .callAcknowledgement, repeatCount: 1, why: "call")
        #expect(Self.code(ack) == "queued")
        let announced = await Self.waitUntil { events.last.contains { $0.kind == "announcement" } }
        #expect(announced)
    }

    @Test func refusalsHaveTheirCodes() async throws {
        let (service, _, _) = try Self.service { $0.queue.maximumTextLength = 10 }
        await service.start()
        #expect(
            Self.code(await service.play(clip: "nope", repeatCount: 1, priority: .command, why: "c")) == "unknown_clip")
        #expect(
            Self.code(
                await service.say(text: "Beaucoup trop long", voice: nil, priority: .command, repeatCount: 1, why: "c"))
                == "text_too_long")
        #expect(
            Self.code(await service.say(text: "Bonjour", voice: "zz", priority: .command, repeatCount: 1, why: "c"))
                == "unknown_voice")
        #expect(
            Self.code(await service.say(text: "  ", voice: nil, priority: .command, repeatCount: 1, why: "c"))
                == "invalid_field")
        #expect(Self.code(await service.play(clip: "bip", repeatCount: 1, priority: .command, why: "c")) == "queued")
    }

    @Test func aRuleIsHeldBackByItsCooldown() async throws {
        let (service, _, _) = try Self.service { $0.queue.ruleCooldown = 60 }
        await service.start()
        #expect(
            Self.code(await service.play(clip: "bip", repeatCount: 1, priority: .rule, why: "rule:yard")) == "queued")
        #expect(
            Self.code(await service.play(clip: "bip", repeatCount: 1, priority: .rule, why: "rule:yard"))
                == "cooling_down")
        #expect(
            Self.code(await service.play(clip: "bip", repeatCount: 1, priority: .rule, why: "rule:gate")) == "queued")
    }

    /// A text refused for the hour or the cool-down is refused before espeak-ng is asked (an unknown voice, which
    /// only synthesis finds, would otherwise be the answer), and so is a rule's text while the same rule's previous
    /// one is still being synthesized.
    @Test func aTextThatCannotSoundIsRefusedBeforeSynthesis() async throws {
        let (night, _, _) = try Self.service(minuteOfDay: 23 * 60) { $0.queue.quietHours = QuietHours("22:00-07:00") }
        await night.start()
        #expect(
            Self.code(await night.say(text: "Bonjour", voice: "zz", priority: .command, repeatCount: 1, why: "c"))
                == "quiet_hours")

        // A long text, so that its synthesis lasts (a tenth of a second or more) while the test looks.
        let (service, _, _) = try Self.service {
            $0.queue.ruleCooldown = 60
            $0.queue.maximumTextLength = 2000
            $0.queue.maximumDuration = 300
        }
        await service.start()
        let long = String(repeating: "Vous êtes dans une zone surveillée. ", count: 55)
        let first = Task { await service.say(text: long, voice: nil, priority: .rule, repeatCount: 1, why: "rule:a") }
        var preparing = false
        for _ in 0..<2000 where !preparing {
            preparing = await service.isPreparing("rule:a")
            if !preparing { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(preparing)
        #expect(
            Self.code(await service.say(text: "Bonjour", voice: "zz", priority: .rule, repeatCount: 1, why: "rule:a"))
                == "cooling_down")
        #expect(Self.code(await first.value) == "queued")
        #expect(
            Self.code(await service.say(text: "Bonjour", voice: "zz", priority: .rule, repeatCount: 1, why: "rule:a"))
                == "cooling_down")
        // Another rule is not held back: its unknown voice is found by synthesis.
        #expect(
            Self.code(await service.say(text: "Bonjour", voice: "zz", priority: .rule, repeatCount: 1, why: "rule:b"))
                == "unknown_voice")
    }

    @Test func aClipGoneSinceStartIsSkippedNotAFault() async throws {
        let (service, events, folder) = try Self.service()
        await service.start()
        try FileManager.default.removeItem(atPath: folder + "/clips/bip.wav")
        #expect(Self.code(await service.play(clip: "bip", repeatCount: 1, priority: .command, why: "c")) == "queued")
        #expect(await Self.waitUntil { events.last.contains { $0.kind == "announcement" } })
        #expect(!events.last.contains { $0.kind == "speaker_fault" })
        #expect(await service.report.fault == nil)
        #expect(
            Self.code(await service.say(text: "Bonjour", voice: nil, priority: .command, repeatCount: 1, why: "c"))
                == "queued")
    }

    @Test func announcementEventCarriesWhatWasSaid() {
        let message = SpeakerMessage(
            id: "m1", content: .text("Bonjour", voice: "fr"), priority: .command, source: "command:r1", repeatCount: 2)
        let event = UnitEvent.announcement(
            Announcement(
                message: message, startTime: 1_800_000_000.25, duration: 3.5, timesPlayed: 2, interrupted: false,
                truncated: false),
            why: "command:r1"
        ).uplinkEvent
        #expect(event.kind == "announcement")
        #expect(event.priority == Priority.routine)
        let details = Dictionary(uniqueKeysWithValues: event.details.map { ($0.key, $0.value) })
        #expect(details["message"] == "m1")
        #expect(details["text"] == "Bonjour")
        #expect(details["why"] == "command:r1")
        #expect(details["start"] == "2027-01-15T08:00:00.250Z")
        #expect(details["duration_s"] == "3.5")
        #expect(details["times_played"] == "2")
        #expect(details["interrupted"] == "false")
    }

    static func waitUntil(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<200 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }
}
