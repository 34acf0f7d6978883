// `[gpio]` and `[audio]`: the board's lines and sound card, from its profile and the configuration.

extension ConfigurationReader {
    mutating func readGPIO(_ gpio: TOMLTable) -> GPIOSettings? {
        checkKeys(gpio, path: "gpio", allowed: Self.gpioKeys)
        var chip: GPIOSettings.Chip?
        if let text = string(gpio, "chip", path: "gpio") {
            chip = GPIOSettings.Chip(text.value)
            if chip == nil {
                issue(
                    text.line, "gpio.chip",
                    "'\(text.value.prefix(64))' is not /dev/gpiochipN, label:NAME (e.g. label:pinctrl-rp1) or "
                        + "simulated")
            }
        } else if gpio["chip"] == nil {
            issue(gpio.line, "gpio.chip", "missing: /dev/gpiochipN, label:NAME (e.g. label:pinctrl-rp1) or simulated")
        }
        let button = input(gpio, "button", activeLow: true)
        let callLED = line(gpio, "led_call_line")
        let answeredLED = line(gpio, "led_answered_line")
        let faultLED = line(gpio, "led_fault_line")
        let tamper = input(gpio, "tamper", activeLow: false)
        guard let chip else { return nil }
        let settings = GPIOSettings(
            chip: chip, button: button, callLED: callLED, answeredLED: answeredLED, faultLED: faultLED, tamper: tamper)
        return checkDistinct(gpio, settings) ? settings : nil
    }

    /// Each line has one use. A clash is reported at the key the configuration itself sets, if one of the two is,
    /// since that is the one the technician changed.
    private mutating func checkDistinct(_ gpio: TOMLTable, _ settings: GPIOSettings) -> Bool {
        let lines = settings.lines
        var distinct = true
        for later in lines.indices {
            guard let earlier = lines[..<later].firstIndex(where: { $0.line == lines[later].line }) else { continue }
            distinct = false
            var (here, other) = (lines[later].key, lines[earlier].key)
            if isFromProfile("gpio.\(here)") && !isFromProfile("gpio.\(other)") { swap(&here, &other) }
            let otherLine = gpio[other]?.line ?? gpio.line
            let place = isFromProfile("gpio.\(other)") ? "\(profileFile ?? file):\(otherLine)" : "line \(otherLine)"
            issue(
                gpio[here]?.line ?? gpio.line, "gpio.\(here)",
                "line \(lines[later].line) is also gpio.\(other) (\(place)): each line has one use")
        }
        return distinct
    }

    /// `<name>_line`, `<name>_active_low` and `<name>_bias`: an input, if it has a line.
    private mutating func input(_ gpio: TOMLTable, _ name: String, activeLow: Bool) -> GPIOSettings.Input? {
        let number = line(gpio, "\(name)_line")
        let low = bool(gpio, "\(name)_active_low", path: "gpio")
        var bias = GPIOSettings.Bias.pullUp
        if let text = string(gpio, "\(name)_bias", path: "gpio") {
            if let value = GPIOSettings.Bias(rawValue: text.value) {
                bias = value
            } else {
                let known = GPIOSettings.Bias.allCases.map(\.rawValue).joined(separator: ", ")
                issue(text.line, "gpio.\(name)_bias", "'\(text.value.prefix(64))' is not a bias (\(known))")
            }
        }
        guard let number else { return nil }
        return GPIOSettings.Input(line: number, activeLow: low ?? activeLow, bias: bias)
    }

    /// A line offset or a line's name (`"GPIO17"`); `"none"` switches off a line the board profile has (a unit
    /// without that switch wired).
    private mutating func line(_ gpio: TOMLTable, _ key: String) -> GPIOSettings.Line? {
        guard let value = gpio[key] else { return nil }
        switch value.kind {
        case .string("none"):
            return nil
        case .string(let name):
            guard GPIOSettings.Line.isValidName(name) else {
                let hint =
                    name.utf8.allSatisfy({ (0x30...0x39).contains($0) }) && !name.isEmpty
                    ? " (an offset is written without quotes: \(name.prefix(8)))" : ""
                issue(
                    value.line, "gpio.\(key)",
                    "'\(name.prefix(64))' is not a line name (1 to 31 printable characters, no spaces, as gpioinfo "
                        + "shows them)\(hint)")
                return nil
            }
            return .name(name)
        case .integer:
            guard let number = integer(gpio, key, path: "gpio", in: 0...GPIOSettings.maximumLine) else { return nil }
            return .offset(number)
        default:
            issue(
                value.line, "gpio.\(key)",
                "expected a line number from 0 to \(GPIOSettings.maximumLine), a line name (\"GPIO17\") or \"none\"")
            return nil
        }
    }

    mutating func readAudio(_ audio: TOMLTable, baseDirectory: String) -> AudioSettings? {
        checkKeys(audio, path: "audio", allowed: Self.audioKeys)
        let card = string(audio, "card", path: "audio")
        let file = string(audio, "file", path: "audio")
        let mixer = string(audio, "mixer_control", path: "audio")
        var output: AudioSettings.Output?
        switch (card, file) {
        case (nil, nil):
            if audio["card"] == nil && audio["file"] == nil {
                issue(
                    audio.line, "audio.card",
                    "missing: the sound card (card = \"Device\", as in aplay -l) or a file (file = \"speaker.wav\")")
            }
        case (.some, .some(let file)):
            issue(file.line, "audio.file", "give a sound card (card) or a file, not both")
        case (.some(let card), nil):
            if AudioSettings.isValidCard(card.value) {
                output = .alsa(card: card.value)
            } else {
                issue(
                    card.line, "audio.card",
                    "'\(card.value.prefix(64))' is not an ALSA card id (1 to 31 letters, digits, '-' or '_', as in "
                        + "aplay -l)")
            }
        case (nil, .some(let file)):
            if file.value.isEmpty {
                issue(file.line, "audio.file", "expected a file name")
            } else {
                output = .file(path: file.value.hasPrefix("/") ? file.value : baseDirectory + "/" + file.value)
            }
        }
        var control: String?
        if let mixer {
            if !AudioSettings.isValidMixerControl(mixer.value) {
                issue(
                    mixer.line, "audio.mixer_control",
                    "'\(mixer.value.prefix(64))' is not a mixer control name (as in amixer scontrols, e.g. \"PCM\")")
            } else if file != nil {
                issue(mixer.line, "audio.mixer_control", "only with a sound card (card), not a file")
            } else {
                control = mixer.value
            }
        }
        guard let output else { return nil }
        return AudioSettings(output: output, mixerControl: control)
    }
}

extension ConfigurationReader {
    static let speakerKeys: Set<String> = [
        "pcm", "volume", "clips_dir", "voice", "words_per_minute", "chime", "quiet_hours", "max_text", "max_duration",
        "rule_cooldown", "repeat_gap",
    ]

    /// `[speaker]` over the board's `[audio]`: a unit with either has a speaker.
    mutating func readSpeaker(_ speaker: TOMLTable?, audio: AudioSettings?, baseDirectory: String) -> SpeakerSettings? {
        guard let speaker else { return SpeakerSettings.resolve(audio: audio, pcm: nil) }
        checkKeys(speaker, path: "speaker", allowed: Self.speakerKeys)
        var pcm: String?
        if let name = string(speaker, "pcm", path: "speaker") {
            if SpeakerSettings.isValidPCMName(name.value) {
                pcm = name.value
            } else {
                issue(
                    name.line, "speaker.pcm",
                    "'\(name.value.prefix(64))' is not an ALSA PCM name (e.g. \"default\", \"plughw:CARD=Device\")")
            }
        }
        var settings = SpeakerSettings.resolve(audio: audio, pcm: pcm) ?? SpeakerSettings(output: .pcm("default"))
        if let volume = integer(speaker, "volume", path: "speaker", in: 0...100) {
            if settings.mixerControl == nil, let line = speaker["volume"]?.line {
                issue(line, "speaker.volume", "needs a sound card with a mixer control ([audio] mixer_control)")
            }
            settings.volume = volume
        }
        if let folder = string(speaker, "clips_dir", path: "speaker") {
            if folder.value.isEmpty {
                issue(folder.line, "speaker.clips_dir", "expected a folder of WAV clips")
            } else {
                settings.clipsDirectory =
                    folder.value.hasPrefix("/") ? folder.value : baseDirectory + "/" + folder.value
            }
        }
        if let voice = string(speaker, "voice", path: "speaker") {
            if SpeakerSettings.isValidVoiceName(voice.value) {
                settings.voice = voice.value
            } else {
                issue(
                    voice.line, "speaker.voice",
                    "'\(voice.value.prefix(64))' is not an espeak-ng voice name (e.g. \"fr\", \"en-gb\", \"fr+f3\")")
            }
        }
        if let rate = integer(speaker, "words_per_minute", path: "speaker", in: 80...400) {
            settings.wordsPerMinute = rate
        }
        if let chime = bool(speaker, "chime", path: "speaker") { settings.queue.chime = chime }
        if let hours = string(speaker, "quiet_hours", path: "speaker") {
            if let parsed = QuietHours(hours.value) {
                settings.queue.quietHours = parsed
            } else {
                issue(
                    hours.line, "speaker.quiet_hours",
                    "'\(hours.value.prefix(64))' is not a span of local time \"HH:MM-HH:MM\" (e.g. \"22:00-07:00\")")
            }
        }
        if let length = integer(speaker, "max_text", path: "speaker", in: 1...2000) {
            settings.queue.maximumTextLength = length
        }
        if let duration = number(speaker, "max_duration", path: "speaker", in: 1...600) {
            settings.queue.maximumDuration = duration
        }
        if let cooldown = number(speaker, "rule_cooldown", path: "speaker", in: 0...86400) {
            settings.queue.ruleCooldown = cooldown
        }
        if let gap = number(speaker, "repeat_gap", path: "speaker", in: 0...10) { settings.queue.repeatGap = gap }
        return settings
    }
}
