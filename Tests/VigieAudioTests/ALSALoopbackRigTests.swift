import CALSA
import Foundation
import Synchronization
import Testing
import VigieAudio
import VigieCore

/// What the speaker plays, recorded back through snd-aloop in the kernel rig (`tools/vmtest`): a clip comes out
/// bit for bit, and a spoken sentence with speech's length and level. Fails, not skips, when the rig's card is
/// missing.
@Suite("ALSA playback through snd-aloop (rig)", .serialized, .enabled(if: getenv("VIGIE_RIG") != nil))
struct ALSALoopbackRigTests {
    struct RigError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Plays `audio` on the loopback's playback side from a thread of its own, after `lead` seconds of silence
    /// (so that the recording, started meanwhile, misses none of it).
    static func playInBackground(_ audio: PCMAudio, lead: Double) -> Outcome {
        let outcome = Outcome()
        let padded =
            PCMAudio.silence(seconds: lead, sampleRate: audio.sampleRate, channels: audio.channels).samples
            + audio.samples
            + PCMAudio.silence(seconds: 0.5, sampleRate: audio.sampleRate, channels: audio.channels).samples
        let rate = audio.sampleRate
        let channels = audio.channels
        Thread.detachNewThread {
            var failure: String?
            do {
                let playback = try PCMPlayback(name: "rigplay", sampleRate: rate, channels: channels)
                try playback.write(padded)
                playback.drain()
                playback.close()
            } catch {
                failure = "\(error)"
            }
            outcome.state.withLock { $0 = failure }
        }
        return outcome
    }

    /// How the background playback went: "playing", then `nil` (done) or why it failed.
    final class Outcome: Sendable {
        let state = Mutex<String?>("playing")
    }

    /// Records `frames` frames from the loopback's capture side (test code only: Vigie never captures).
    static func record(rate: Int, channels: Int, frames: Int) throws -> [Int16] {
        var handle: OpaquePointer?
        let opened = snd_pcm_open(&handle, "rigcapture", SND_PCM_STREAM_CAPTURE, 0)
        guard opened >= 0, let pcm = handle else {
            throw RigError("cannot open the loopback's capture side: \(String(cString: snd_strerror(opened)))")
        }
        defer { snd_pcm_close(pcm) }
        let set = snd_pcm_set_params(
            pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, UInt32(channels), UInt32(rate), 1, 100_000)
        guard set >= 0 else { throw RigError("capture refused the format: \(String(cString: snd_strerror(set)))") }
        // Started before the first read: left to readi, the start fails with EIO on snd-aloop (seen in the rig).
        let started = snd_pcm_start(pcm)
        guard started >= 0 else { throw RigError("snd_pcm_start: \(String(cString: snd_strerror(started)))") }
        var samples: [Int16] = []
        var buffer = [Int16](repeating: 0, count: 1024 * channels)
        while samples.count < frames * channels {
            let read = buffer.withUnsafeMutableBytes {
                snd_pcm_readi(pcm, $0.baseAddress, snd_pcm_uframes_t(min(1024, frames - samples.count / channels)))
            }
            if read < 0 {
                let code = Int32(read)
                guard snd_pcm_recover(pcm, code, 1) >= 0 else {
                    let cables = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/asound/Loopback")) ?? []
                    let info = cables.filter { $0.hasPrefix("cable") }.sorted().prefix(2).map {
                        (try? String(contentsOfFile: "/proc/asound/Loopback/" + $0, encoding: .utf8)) ?? "?"
                    }.joined(separator: " | ")
                    throw RigError(
                        "capture failed after \(samples.count / channels) frames: \(String(cString: snd_strerror(code)))"
                            + "; state \(snd_pcm_state(pcm).rawValue); cables: \(info)")
                }
                continue
            }
            samples += buffer.prefix(Int(read) * channels)
        }
        return samples
    }

    @Test func clipComesBackBitExact() throws {
        _ = PrivateALSA.folder
        var random = SplitMix(seed: 16)
        // 1 s of stereo noise at 48 kHz, never zero: where it starts in the recording is unambiguous.
        let samples = (0..<96_000).map { _ in Int16(truncatingIfNeeded: random.next() | 1) }
        let clip = try WAV.parse(
            WAV.encode(PCMAudio(sampleRate: 48000, channels: 2, samples: samples)), name: "noise.wav")
        let playing = Self.playInBackground(clip, lead: 0.5)
        usleep(100_000)
        let recorded = try Self.record(rate: 48000, channels: 2, frames: 48000 * 2)
        usleep(700_000)
        #expect(playing.state.withLock { $0 } == nil)
        let start = try #require(recorded.firstIndex { $0 != 0 }, "nothing came back")
        #expect(start % 2 == 0)
        #expect(recorded.count >= start + clip.samples.count, "recorded \(recorded.count) samples")
        #expect(Array(recorded[start..<min(recorded.count, start + clip.samples.count)]) == clip.samples)
    }

    @Test func spokenSentenceComesBackWithItsLengthAndLevel() throws {
        _ = PrivateALSA.folder
        let speech = try SpeechSynthesizer.synthesize(
            "La police municipale vous demande de quitter les lieux, merci.", voice: "fr")
        let playing = Self.playInBackground(speech, lead: 0.5)
        usleep(100_000)
        let frames = Int((speech.duration + 0.8) * Double(speech.sampleRate))
        let recorded = try Self.record(rate: speech.sampleRate, channels: 1, frames: frames)
        usleep(700_000)
        #expect(playing.state.withLock { $0 } == nil)
        let first = try #require(recorded.firstIndex { $0 != 0 }, "nothing came back")
        let last = try #require(recorded.lastIndex { $0 != 0 })
        let heard = Double(last - first + 1) / Double(speech.sampleRate)
        let sound = PCMAudio(sampleRate: speech.sampleRate, channels: 1, samples: Array(recorded[first...last]))
        // espeak-ng's own leading and trailing silence is not heard: a little shorter than what was played.
        #expect(
            heard <= speech.duration + 0.01 && heard > speech.duration - 0.5, "heard \(heard) of \(speech.duration) s")
        #expect(sound.rmsLevel > 0.02, "level \(sound.rmsLevel)")
    }
}
