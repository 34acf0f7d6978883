import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where the speaker's sound goes, and playing one sound there from start to end (blocking).
public enum SpeakerOutput: Sendable, Hashable {
    /// An ALSA playback PCM by name.
    case pcm(String)
    /// No sound card: each sound is written to this WAV file, replacing the last, at the pace it would play.
    case file(path: String)

    /// The output the configuration names.
    public init(_ output: SpeakerSettings.Output) {
        switch output {
        case .pcm(let name): self = .pcm(name)
        case .file(let path): self = .file(path: path)
        }
    }

    /// Whether the output can be used now: the PCM opens for playback (then is closed), or the file can be written.
    public func probe() throws(AudioError) {
        switch self {
        case .pcm(let name):
            let playback = try PCMPlayback(name: name, sampleRate: 22050, channels: 1)
            playback.close()
        case .file(let path):
            do throws(SystemCallError) {
                close(try SystemCall.retrying("open") { open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) })
            } catch {
                throw .cannotWrite(path: path, message: error.description)
            }
        }
    }

    /// Plays `audio` to its end (after `leadingSilence` seconds), or until `shouldStop` says so (asked about every
    /// 50 ms). Returns the seconds of sound played. `firstFrame` is called once the first samples are handed to
    /// the device (for latency figures).
    @discardableResult
    public func play(
        _ audio: PCMAudio, leadingSilence: Double = 0, shouldStop: () -> Bool = { false },
        firstFrame: () -> Void = {}
    ) throws(AudioError) -> Double {
        var samples = PCMAudio.silence(
            seconds: leadingSilence, sampleRate: audio.sampleRate, channels: audio.channels
        ).samples
        samples += audio.samples
        switch self {
        case .pcm(let name):
            let playback = try PCMPlayback(name: name, sampleRate: audio.sampleRate, channels: audio.channels)
            defer { playback.close() }
            var first = true
            let frames = try playback.write(samples) {
                if first {
                    first = false
                    firstFrame()
                }
                return shouldStop()
            }
            if shouldStop() { playback.drop() } else { playback.drain() }
            return Double(frames) / Double(audio.sampleRate)
        case .file(let path):
            let bytes = WAV.encode(PCMAudio(sampleRate: audio.sampleRate, channels: audio.channels, samples: samples))
            try Self.write(bytes, to: path)
            firstFrame()
            // At the pace of a real speaker, so that messages take their time (and can be interrupted) in the demo.
            let total = Double(samples.count / audio.channels) / Double(audio.sampleRate)
            var played = 0.0
            while played < total && !shouldStop() {
                let step = min(0.05, total - played)
                var pause = timespec(tv_sec: 0, tv_nsec: Int(step * 1e9))
                var left = timespec()
                while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
                played += step
            }
            return played
        }
    }

    /// Writes `bytes` to the file at `path` (created or replaced), e.g. a WAV file of `WAV.encode`.
    public static func write(_ bytes: [UInt8], to path: String) throws(AudioError) {
        do throws(SystemCallError) {
            let fd = try SystemCall.retrying("open") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
            defer { close(fd) }
            var failure: SystemCallError?
            bytes.withUnsafeBytes { raw in
                do throws(SystemCallError) { try SystemCall.writeAll(raw, to: fd) } catch { failure = error }
            }
            if let failure { throw failure }
        } catch {
            throw .cannotWrite(path: path, message: error.description)
        }
    }
}
