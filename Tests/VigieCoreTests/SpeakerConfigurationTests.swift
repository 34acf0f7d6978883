import Testing
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Speaker configuration and clips")
struct SpeakerConfigurationTests {
    @Test func noAudioNoSpeaker() throws {
        #expect(try Configuration.parse("", file: "unit.toml").speaker == nil)
    }

    @Test func theBoardsCardIsTheSpeaker() throws {
        let configuration = try Configuration.parse(
            "[device]\nboard = \"rpi4\"\n", file: "unit.toml", boardDirectory: repositoryBoards)
        let speaker = try #require(configuration.speaker)
        #expect(speaker.output == .pcm("plughw:CARD=Headphones"))
        #expect(speaker.mixerDevice == "hw:CARD=Headphones")
        #expect(speaker.mixerControl == "PCM")
        #expect(speaker.voice == "fr")
        #expect(speaker.queue == SpeakerQueue.Settings())
    }

    @Test func theDemoBoardWritesAFile() throws {
        let configuration = try Configuration.parse(
            "[device]\nboard = \"demo\"\n", file: "unit.toml", baseDirectory: "/srv/unit",
            boardDirectory: repositoryBoards)
        #expect(configuration.speaker?.output == .file(path: "/srv/unit/demo-audio.wav"))
    }

    @Test func everyKeyIsRead() throws {
        let text = """
            [device]
            board = "rpi4"
            [speaker]
            pcm = "default"
            volume = 70
            clips_dir = "clips"
            voice = "en-gb"
            words_per_minute = 150
            chime = false
            quiet_hours = "22:30-06:45"
            max_text = 300
            max_duration = 30
            rule_cooldown = 120
            repeat_gap = 0.5
            """
        let configuration = try Configuration.parse(
            text, file: "unit.toml", baseDirectory: "/etc/vigie", boardDirectory: repositoryBoards)
        let speaker = try #require(configuration.speaker)
        #expect(speaker.output == .pcm("default"))
        #expect(speaker.mixerControl == "PCM")
        #expect(speaker.volume == 70)
        #expect(speaker.clipsDirectory == "/etc/vigie/clips")
        #expect(speaker.voice == "en-gb")
        #expect(speaker.wordsPerMinute == 150)
        #expect(!speaker.queue.chime)
        #expect(speaker.queue.quietHours == QuietHours(start: 22 * 60 + 30, end: 6 * 60 + 45))
        #expect(speaker.queue.maximumTextLength == 300)
        #expect(speaker.queue.maximumDuration == 30)
        #expect(speaker.queue.ruleCooldown == 120)
        #expect(speaker.queue.repeatGap == 0.5)
    }

    @Test func aSpeakerSectionAloneUsesTheDefaultPCM() throws {
        let configuration = try Configuration.parse("[speaker]\nvoice = \"fr\"\n", file: "unit.toml")
        #expect(configuration.speaker?.output == .pcm("default"))
    }

    static let errors: [(String, Int, String, String)] = [
        ("[speaker]\npcm = \"a b\"\n", 2, "speaker.pcm", "not an ALSA PCM name"),
        ("[speaker]\npcm = \"\"\n", 2, "speaker.pcm", "not an ALSA PCM name"),
        ("[speaker]\nvolume = 101\n", 2, "speaker.volume", "out of range"),
        ("[speaker]\nvolume = 50\n", 2, "speaker.volume", "mixer control"),
        ("[speaker]\nvoice = \"../fr\"\n", 2, "speaker.voice", "not an espeak-ng voice"),
        ("[speaker]\nvoice = \"FR\"\n", 2, "speaker.voice", "not an espeak-ng voice"),
        ("[speaker]\nquiet_hours = \"22h-7h\"\n", 2, "speaker.quiet_hours", "HH:MM-HH:MM"),
        ("[speaker]\nmax_text = 0\n", 2, "speaker.max_text", "out of range"),
        ("[speaker]\nmax_duration = \"long\"\n", 2, "speaker.max_duration", "expected a number"),
        ("[speaker]\nchime = 1\n", 2, "speaker.chime", "true or false"),
        ("[speaker]\nclips_dir = \"\"\n", 2, "speaker.clips_dir", "folder"),
        ("[speaker]\n\nvolumen = 3\n", 3, "speaker.volumen", "unknown key"),
        ("speaker = 1\n", 1, "speaker", "expected a table"),
    ]

    @Test(arguments: errors)
    func errorsNameFileLineAndKey(text: String, line: Int, key: String, message: String) {
        ConfigurationTests.expectOneError(in: text, line: line, key: key, message: message)
    }

    static func save(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
        close(fd)
    }

    @Test func clipLibraryListsGoodClipsAndReportsBadFilesByName() throws {
        var template = Array("/tmp/vigie-clips-XXXXXX".utf8CString)
        let folder = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let tone = PCMAudio.tone(frequency: 440, seconds: 1.5, sampleRate: 16000)
        Self.save(WAV.encode(tone), to: "\(folder)/police_municipale.wav")
        Self.save(WAV.encode(tone), to: "\(folder)/Bad Name.wav")
        Self.save(Array("not a wav".utf8), to: "\(folder)/broken.wav")
        Self.save(Array("notes".utf8), to: "\(folder)/readme.txt")
        mkdir("\(folder)/folder.wav", 0o755)
        defer {
            for name in ["police_municipale.wav", "Bad Name.wav", "broken.wav", "readme.txt"] {
                unlink("\(folder)/\(name)")
            }
            rmdir("\(folder)/folder.wav")
            rmdir(folder)
        }
        let library = ClipLibrary.load(directory: folder)
        #expect(library.clips.keys.sorted() == ["police_municipale"])
        let clip = try #require(library.clips["police_municipale"])
        #expect(clip.duration == 1.5)
        #expect(clip.path == "\(folder)/police_municipale.wav")
        #expect(try library.audio(id: "police_municipale") == tone)
        #expect(try library.audio(id: "../police_municipale") == nil)
        #expect(library.problems.map(\.file) == ["Bad Name.wav", "broken.wav", "folder.wav", "readme.txt"])
        #expect(library.problems[1].reason.contains("not a WAV file"))
    }

    @Test func missingClipFolderIsOneProblem() {
        let library = ClipLibrary.load(directory: "/nonexistent/clips")
        #expect(library.clips.isEmpty)
        #expect(library.problems.count == 1)
        #expect(library.problems.first?.reason.hasPrefix("cannot read") == true)
    }

    @Test(arguments: [
        ("hello", true), ("a", true), ("x_y-z9", true), (String(repeating: "a", count: 64), true),
        ("", false), ("../x", false), ("a/b", false), ("A", false), (".", false), ("é", false),
        (String(repeating: "a", count: 65), false), ("a b", false), ("a.wav", false),
    ])
    func clipIDs(id: String, valid: Bool) {
        #expect(ClipLibrary.isValidID(id) == valid)
    }
}
