import Foundation
import Testing
import VigieAudio
import VigieCore

@Suite("ALSA playback through the file plugin", .serialized)
struct PlaybackTests {
    @Test func clipIsWrittenWholeAndUnchanged() throws {
        let (pcm, path) = PrivateALSA.filePCM("clip")
        // A 0.75 s two-tone stereo clip, through a WAV file as a clip would come.
        let left = PCMAudio.tone(frequency: 440, seconds: 0.75, sampleRate: 16000).samples
        let right = PCMAudio.tone(frequency: 660, seconds: 0.75, sampleRate: 16000).samples
        let clip = PCMAudio(
            sampleRate: 16000, channels: 2, samples: zip(left, right).flatMap { [$0, $1] })
        let audio = try WAV.parse(WAV.encode(clip), name: "two-tone.wav")
        let playback = try PCMPlayback(name: pcm, sampleRate: audio.sampleRate, channels: audio.channels)
        let frames = try playback.write(audio.samples)
        playback.drain()
        playback.close()
        #expect(frames == 12000)
        let written = try PrivateALSA.samples(path)
        #expect(written.count == audio.samples.count)
        #expect(written == audio.samples)
        let level = PCMAudio(sampleRate: 16000, channels: 2, samples: written).rmsLevel
        #expect(level > 0.15 && level < 0.25)  // a sine at 0.3 of full scale: 0.3/√2 ≈ 0.21
    }

    @Test func spokenFrenchSentenceHasSpeechLengthAndLevel() throws {
        let (pcm, path) = PrivateALSA.filePCM("speech")
        let sentence = "La police municipale vous demande de quitter les lieux immédiatement, merci."
        let speech = try SpeechSynthesizer.synthesize(sentence, voice: "fr")
        #expect(speech.channels == 1)
        #expect(speech.sampleRate == 22050)
        // 11 words at 160 words a minute: about 4 s of speech; allow for pauses and espeak's own pacing.
        #expect(speech.duration > 2.5 && speech.duration < 8, "duration \(speech.duration) s")
        let playback = try PCMPlayback(name: pcm, sampleRate: speech.sampleRate, channels: 1)
        try playback.write(speech.samples)
        playback.drain()
        playback.close()
        let written = try PrivateALSA.samples(path)
        #expect(written.count == speech.samples.count)
        let level = PCMAudio(sampleRate: 22050, channels: 1, samples: written).rmsLevel
        #expect(level > 0.02, "level \(level)")
    }

    @Test func longerTextTakesLonger() throws {
        let short = try SpeechSynthesizer.synthesize("Bonjour.")
        let long = try SpeechSynthesizer.synthesize("Bonjour. Vous êtes filmés. Merci de quitter la cour de l'école.")
        #expect(long.duration > 2 * short.duration)
    }

    @Test func maximumDurationCutsSynthesis() throws {
        let text = String(repeating: "Attention, vous êtes dans une zone interdite. ", count: 20)
        let speech = try SpeechSynthesizer.synthesize(text, maximumSeconds: 3)
        #expect(speech.duration <= 3.0)
        #expect(speech.duration > 2.5)
    }

    @Test func unknownAndTrickyVoicesAreRefused() {
        #expect(throws: AudioError.unknownVoice("xx-nonexistent")) {
            try SpeechSynthesizer.synthesize("Bonjour", voice: "xx-nonexistent")
        }
        #expect(throws: AudioError.unknownVoice("../../etc/passwd")) {
            try SpeechSynthesizer.synthesize("Bonjour", voice: "../../etc/passwd")
        }
        #expect(throws: AudioError.unknownVoice("")) { try SpeechSynthesizer.synthesize("Bonjour", voice: "") }
    }

    @Test func otherVoicesWork() throws {
        let speech = try SpeechSynthesizer.synthesize("Good evening.", voice: "en")
        #expect(speech.duration > 0.4)
    }

    @Test func absentCardIsAClearError() {
        _ = PrivateALSA.folder
        do {
            _ = try PCMPlayback(name: "hw:99", sampleRate: 22050, channels: 1)
            Issue.record("hw:99 opened")
        } catch {
            guard case .cannotOpen(let pcm, let code, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(pcm == "hw:99")
            #expect(code < 0)
        }
    }

    @Test func nullPCMTakesEverything() throws {
        _ = PrivateALSA.folder
        let playback = try PCMPlayback(name: "null", sampleRate: 48000, channels: 2)
        let frames = try playback.write(PCMAudio.silence(seconds: 0.2, sampleRate: 48000, channels: 2).samples)
        #expect(frames == 9600)
    }
}
