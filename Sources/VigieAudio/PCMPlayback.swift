internal import CALSA

#if canImport(Glibc)
    import Glibc
#endif

/// One ALSA playback PCM, opened for 16-bit interleaved samples at one rate and channel count.
///
/// Output only: the stream is always `SND_PCM_STREAM_PLAYBACK` (Vigie never records sound). Writes block, so a
/// `PCMPlayback` is used from one thread of its own; it is closed when released.
public final class PCMPlayback {
    /// The ALSA PCM name (`default`, `plughw:CARD=Headphones`, `null`, a name from an asoundrc).
    public let name: String
    /// Frames per second the device was opened for.
    public let sampleRate: Int
    /// Samples per frame (1 or 2).
    public let channels: Int
    private var handle: OpaquePointer?
    /// The buffer's length in seconds, as asked.
    private let latency: Double
    /// How long the device may take no samples before it is taken for failed.
    public static let stallTimeout = 2.0

    /// Opens `name` for playback of S16_LE at `sampleRate` with `channels`, resampled by ALSA if the device needs
    /// it, with about `latency` seconds of buffer.
    public init(name: String, sampleRate: Int, channels: Int, latency: Double = 0.1) throws(AudioError) {
        self.name = name
        self.sampleRate = sampleRate
        self.channels = channels
        self.latency = latency
        Self.silenceLibrary()
        var pcm: OpaquePointer?
        // Non-blocking, waited on with a timeout: a device that stops taking samples is a fault, not a hung thread.
        let opened = snd_pcm_open(&pcm, name, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK)
        guard opened >= 0, let pcm else {
            throw .cannotOpen(pcm: name, code: opened, message: Self.message(opened))
        }
        let set = snd_pcm_set_params(
            pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, UInt32(channels), UInt32(sampleRate), 1,
            UInt32(max(10_000, latency * 1_000_000)))
        guard set >= 0 else {
            snd_pcm_close(pcm)
            throw .unsupportedFormat(pcm: name, rate: sampleRate, channels: channels, message: Self.message(set))
        }
        handle = pcm
    }

    deinit { close() }

    /// Writes `samples` (interleaved, `channels` per frame), waiting until ALSA has taken them all. An underrun
    /// (`-EPIPE`) or a suspend (`-ESTRPIPE`) is recovered with `snd_pcm_recover` and the write goes on; at most a
    /// few recoveries in a row before giving up; a device that takes nothing for `stallTimeout` seconds fails the
    /// write. `shouldStop` is asked between periods (to interrupt a message). Returns the frames written.
    @discardableResult
    public func write(_ samples: [Int16], shouldStop: () -> Bool = { false }) throws(AudioError) -> Int {
        guard let handle else { throw .writeFailed(pcm: name, code: -EBADF, message: "closed") }
        let totalFrames = samples.count / channels
        let chunkFrames = max(256, sampleRate / 20)
        var written = 0
        var recoveries = 0
        var waited = 0.0
        while written < totalFrames {
            if shouldStop() { break }
            let count = min(chunkFrames, totalFrames - written)
            let result = samples.withUnsafeBufferPointer { buffer in
                snd_pcm_writei(handle, buffer.baseAddress! + written * channels, snd_pcm_uframes_t(count))
            }
            if result >= 0 {
                written += Int(result)
                recoveries = 0
                waited = 0
                continue
            }
            var code = Int32(result)
            if code == -EAGAIN {
                let ready = snd_pcm_wait(handle, 250)
                if ready > 0 { continue }
                if ready == 0 {
                    waited += 0.25
                    guard waited < Self.stallTimeout else {
                        throw .writeFailed(
                            pcm: name, code: -ETIMEDOUT,
                            message: "the device took no samples for \(Int(Self.stallTimeout)) s")
                    }
                    continue
                }
                code = ready
            }
            guard code == -EPIPE || code == -ESTRPIPE || code == -EINTR, recoveries < 5 else {
                throw .writeFailed(pcm: name, code: code, message: Self.message(code))
            }
            recoveries += 1
            let recovered = snd_pcm_recover(handle, code, 1)
            guard recovered >= 0 else {
                throw .writeFailed(pcm: name, code: recovered, message: Self.message(recovered))
            }
        }
        return written
    }

    /// Waits until what was written has been played, for at most the buffer's length and `stallTimeout`; then
    /// drops what is left.
    public func drain() {
        guard let handle else { return }
        guard snd_pcm_drain(handle) == -EAGAIN else { return }
        // Non-blocking: the drain goes on by itself; its end is seen in the state.
        var left = latency + Self.stallTimeout
        while left > 0 && snd_pcm_state(handle) == SND_PCM_STATE_DRAINING {
            usleep(20_000)
            left -= 0.02
        }
        if snd_pcm_state(handle) == SND_PCM_STATE_DRAINING { snd_pcm_drop(handle) }
    }

    /// Stops at once, dropping what is buffered (an interrupted message).
    public func drop() {
        guard let handle else { return }
        snd_pcm_drop(handle)
        snd_pcm_prepare(handle)
    }

    /// Closes the device; further writes fail.
    public func close() {
        guard let handle else { return }
        snd_pcm_close(handle)
        self.handle = nil
    }

    /// alsa-lib's own messages on standard error, off: each failure is an `AudioError` the caller logs once.
    static func silenceLibrary() { _ = silenced }
    private static let silenced: Void = calsa_silence_errors()

    static func message(_ code: Int32) -> String {
        guard let text = snd_strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
