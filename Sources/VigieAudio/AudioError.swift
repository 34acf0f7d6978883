/// Why the speaker could not play or speak. Each case keeps the device or voice and the library's own words.
public enum AudioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `snd_pcm_open` failed: no such card, device busy, no permission.
    case cannotOpen(pcm: String, code: Int32, message: String)
    /// The device refused the format (`snd_pcm_set_params`).
    case unsupportedFormat(pcm: String, rate: Int, channels: Int, message: String)
    /// A write failed and could not be recovered (`snd_pcm_writei`, then `snd_pcm_recover`).
    case writeFailed(pcm: String, code: Int32, message: String)
    /// The file that stands for the speaker (no sound card) could not be written.
    case cannotWrite(path: String, message: String)
    /// The mixer control could not be found or set.
    case mixer(card: String, control: String, message: String)
    /// espeak-ng could not start (its data folder is missing or unreadable).
    case synthesizerUnavailable(reason: String)
    /// The voice is not one espeak-ng has.
    case unknownVoice(String)
    /// espeak-ng failed on this text.
    case synthesisFailed(code: Int32)

    public var description: String {
        switch self {
        case .cannotOpen(let pcm, let code, let message): "cannot open PCM '\(pcm)': \(message) (\(code))"
        case .unsupportedFormat(let pcm, let rate, let channels, let message):
            "PCM '\(pcm)' refused S16_LE \(rate) Hz \(channels) channel(s): \(message)"
        case .writeFailed(let pcm, let code, let message): "writing to PCM '\(pcm)' failed: \(message) (\(code))"
        case .cannotWrite(let path, let message): "cannot write the speaker's file \(path): \(message)"
        case .mixer(let card, let control, let message): "mixer control '\(control)' on '\(card)': \(message)"
        case .synthesizerUnavailable(let reason): "speech synthesis unavailable: \(reason)"
        case .unknownVoice(let voice): "espeak-ng has no voice '\(voice)'"
        case .synthesisFailed(let code): "speech synthesis failed (espeak-ng error \(code))"
        }
    }
}
