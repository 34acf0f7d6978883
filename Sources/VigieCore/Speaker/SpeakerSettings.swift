/// The speaker's settings (`[speaker]`), laid over where the board's `[audio]` says the sound goes.
public struct SpeakerSettings: Sendable, Hashable {
    /// Where the sound goes.
    public enum Output: Sendable, Hashable {
        /// An ALSA playback PCM by name (`default`, `plughw:CARD=Headphones`, `null`, `hw:1,0`).
        case pcm(String)
        /// No sound card: each message is written to this WAV file (an absolute path), replacing the last one.
        case file(path: String)
    }

    /// Where the sound goes.
    public var output: Output
    /// The mixer device (`hw:CARD=Headphones`) whose simple control `mixerControl` (`PCM`) sets the volume, from
    /// `[audio]`; `nil` without a card or a control.
    public var mixerDevice: String?
    public var mixerControl: String?
    /// Volume in percent of the mixer control's range; `nil` leaves it as it is.
    public var volume: Int?
    /// Folder of WAV clips (absolute), named by their ids; `nil`: no clips.
    public var clipsDirectory: String?
    /// espeak-ng voice used when a request names none.
    public var voice = "fr"
    /// Speaking rate.
    public var wordsPerMinute = 160
    /// Priorities, limits, quiet hours, chime.
    public var queue = SpeakerQueue.Settings()

    /// Defaults (voice `fr`, 160 words a minute, the queue's defaults) sounding on `output`.
    public init(output: Output) { self.output = output }

    /// The speaker a unit has: `[speaker] pcm` if set, else the board's `[audio]` card (through `plughw`, which
    /// converts rate and channels) or file; `nil` when there is neither `[audio]` nor `[speaker]`.
    public static func resolve(audio: AudioSettings?, pcm: String?) -> SpeakerSettings? {
        var settings: SpeakerSettings
        switch (pcm, audio?.output) {
        case (.some(let name), _): settings = SpeakerSettings(output: .pcm(name))
        case (nil, .alsa(let card)?): settings = SpeakerSettings(output: .pcm("plughw:CARD=\(card)"))
        case (nil, .file(let path)?): settings = SpeakerSettings(output: .file(path: path))
        case (nil, nil): return nil
        }
        if case .alsa(let card)? = audio?.output, let control = audio?.mixerControl {
            settings.mixerDevice = "hw:CARD=\(card)"
            settings.mixerControl = control
        }
        return settings
    }

    /// An ALSA PCM name: 1 to 128 printable ASCII characters, no spaces or quotes.
    public static func isValidPCMName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count)
            && name.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\"") && $0 != 0x27 }
    }

    /// A voice name as espeak-ng knows it (`fr`, `en-gb`, `fr+f3`): 1 to 32 of `a-z 0-9 - _ +`, not starting with
    /// `-`. Voice names are file names in espeak-ng's data: nothing else may reach it.
    public static func isValidVoiceName(_ voice: String) -> Bool {
        (1...32).contains(voice.utf8.count) && voice.utf8.first != UInt8(ascii: "-")
            && voice.utf8.allSatisfy {
                (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || "-_+".utf8.contains($0)
            }
    }
}
