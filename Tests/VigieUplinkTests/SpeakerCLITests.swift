import Foundation
import Testing
import VigieCore

/// `vigie say`, `vigie speaker test` and `vigie clips list` as a technician runs them (no sound card needed:
/// ALSA's null device and WAV files).
@Suite("Speaker commands of the vigie CLI")
struct SpeakerCLITests {
    typealias CLI = ControlTests

    @Test func sayWritesTheSentenceAsAWAVFile() throws {
        let folder = try temporaryFolder("say")
        let path = folder.appendingPathComponent("phrase.wav").path
        let outcome = try CLI.vigie("say", "Vous êtes filmés, merci de quitter les lieux.", "--output", path)
        #expect(outcome.status == 0, "\(outcome.errors)")
        let audio = try WAV.read(path: path, name: "phrase.wav")
        #expect(audio.sampleRate == 22050 && audio.channels == 1)
        #expect(audio.duration > 1.5 && audio.duration < 6, "\(audio.duration) s")
        #expect(audio.rmsLevel > 0.02)
        #expect(outcome.output.contains("s of speech"))
    }

    @Test func badVoicesAndDevicesFailClearly() throws {
        let tricky = try CLI.vigie("say", "Bonjour", "--lang", "../../etc/passwd", "--output", "/dev/null")
        #expect(tricky.status != 0)
        #expect(tricky.errors.contains("not a voice name"))
        let unknown = try CLI.vigie("say", "Bonjour", "--lang", "zz", "--output", "/dev/null")
        #expect(unknown.status == 1)
        #expect(unknown.errors.contains("no voice 'zz'"))
        let card = try CLI.vigie("speaker", "test", "--pcm", "hw:99")
        #expect(card.status == 1)
        #expect(card.errors.contains("cannot open PCM 'hw:99'"), "\(card.errors)")
        #expect(!card.errors.contains("ALSA lib"), "alsa-lib's own messages are off")
        let null = try CLI.vigie("speaker", "test", "--pcm", "null")
        #expect(null.status == 0, "\(null.errors)")
    }

    @Test func clipsListShowsDurationsAndReportsBadFiles() throws {
        let folder = try temporaryFolder("clips")
        let clips = folder.appendingPathComponent("clips")
        try FileManager.default.createDirectory(at: clips, withIntermediateDirectories: true)
        try Data(WAV.encode(PCMAudio.tone(frequency: 440, seconds: 2.5, sampleRate: 8000))).write(
            to: clips.appendingPathComponent("sortie.wav"))
        try Data("no".utf8).write(to: clips.appendingPathComponent("casse.wav"))
        let configuration = folder.appendingPathComponent("unit.toml")
        try "[speaker]\nclips_dir = \"clips\"\n".write(to: configuration, atomically: true, encoding: .utf8)
        let listed = try CLI.vigie("clips", "list", "--config", configuration.path, "--json")
        #expect(listed.status == 1, "a bad file is a failure")
        let json = try JSON.parse(Array(listed.output.utf8))
        #expect(json["clips"]?.arrayValue?.first?["id"] == .string("sortie"))
        #expect(json["clips"]?.arrayValue?.first?["duration_s"] == .number(2.5))
        #expect(json["skipped"]?.arrayValue?.first?["file"] == .string("casse.wav"))
    }
}
