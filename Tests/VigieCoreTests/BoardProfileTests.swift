import Testing
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The repository's `board/` folder, found from this file's place in the checkout.
let repositoryBoards: String = {
    let path = "\(#filePath)"
    let tests = path.firstRange(of: "/Tests/VigieCoreTests/")!
    return String(path[..<tests.lowerBound]) + "/board"
}()

@Suite("Board profiles")
struct BoardProfileTests {
    static let shipped = ["demo", "rpi4", "rpi5", "x86-usb"]

    static func unit(_ board: String, _ rest: String = "") -> String {
        "[device]\nid = \"u1\"\nboard = \"\(board)\"\n" + rest
    }

    @Test func theRepositoryShipsFourBoards() {
        #expect(BoardProfiles(directory: repositoryBoards).names() == Self.shipped)
    }

    @Test("every shipped profile parses and validates", arguments: shipped)
    func shippedProfileIsValid(board: String) throws {
        let configuration = try Configuration.parse(
            Self.unit(board), file: "unit.toml", baseDirectory: "/etc/vigie", boardDirectory: repositoryBoards)
        #expect(configuration.board == board)
        #expect(configuration.boardFile == "\(repositoryBoards)/\(board).toml")
        #expect(configuration.audio != nil)
        switch board {
        case "rpi4", "rpi5":
            let gpio = try #require(configuration.gpio)
            #expect(gpio.chip == .label(board == "rpi4" ? "pinctrl-bcm2711" : "pinctrl-rp1"))
            #expect(gpio.button == GPIOSettings.Input(line: 17, activeLow: true, bias: .pullUp))
            #expect(gpio.tamper == GPIOSettings.Input(line: 23, activeLow: false, bias: .pullUp))
            #expect(gpio.lines.map(\.line) == [17, 27, 22, 23])
            #expect(configuration.source == .v4l2(device: "/dev/video0"))
        case "x86-usb":
            #expect(configuration.gpio == nil)
            #expect(configuration.audio == AudioSettings(output: .alsa(card: "PCH"), mixerControl: "Master"))
        default:
            #expect(configuration.source == .synthetic)
            #expect(configuration.gpio?.chip == .simulated)
            #expect(configuration.audio == AudioSettings(output: .file(path: "/etc/vigie/demo-audio.wav")))
        }
    }

    @Test func theBuiltInDemoIsTheShippedFile() throws {
        let file = try TextFile.read(path: "\(repositoryBoards)/demo.toml", limit: 1 << 16)
        #expect(BoardProfiles.builtIn["demo"] == file)
    }

    @Test func theDemoBoardNeedsNoFolder() throws {
        let configuration = try Configuration.parse(
            Self.unit("demo"), file: "unit.toml", boardDirectory: "/nonexistent/board")
        #expect(configuration.boardFile == "<built-in>/demo.toml")
        #expect(configuration.source == .synthetic)
        #expect(configuration.gpio?.button?.line == 0)
    }

    @Test func theConfigurationWinsKeyByKey() throws {
        let text = Self.unit(
            "rpi5",
            """
            [source]
            uri = "v4l2:/dev/v4l/by-id/usb-cam-video-index0"
            width = 1280
            height = 720

            [gpio]
            button_line = 5
            tamper_line = "none"

            [audio]
            card = "sndrpihifiberry"
            mixer_control = "Digital"
            """)
        let configuration = try Configuration.parse(text, file: "unit.toml", boardDirectory: repositoryBoards)
        #expect(configuration.source == .v4l2(device: "/dev/v4l/by-id/usb-cam-video-index0"))
        #expect(configuration.captureWidth == 1280)
        let gpio = try #require(configuration.gpio)
        #expect(gpio.chip == .label("pinctrl-rp1"))
        #expect(gpio.button == GPIOSettings.Input(line: 5, activeLow: true, bias: .pullUp))
        #expect(gpio.callLED == 27 && gpio.faultLED == 22)
        #expect(gpio.tamper == nil)
        #expect(configuration.audio == AudioSettings(output: .alsa(card: "sndrpihifiberry"), mixerControl: "Digital"))
    }

    @Test func anotherSoundCardDoesNotInheritTheProfilesMixerControl() throws {
        let card = try Configuration.parse(
            Self.unit("rpi4", "[audio]\ncard = \"Device\"\n"), file: "unit.toml", boardDirectory: repositoryBoards)
        #expect(card.audio == AudioSettings(output: .alsa(card: "Device")))
        let file = try Configuration.parse(
            Self.unit("rpi4", "[audio]\nfile = \"/tmp/speaker.wav\"\n"), file: "unit.toml",
            boardDirectory: repositoryBoards)
        #expect(file.audio == AudioSettings(output: .file(path: "/tmp/speaker.wav")))
    }

    @Test func boardDirIsTakenFromTheConfigurationsFolder() throws {
        let folder = String(repositoryBoards.dropLast("/board".count))
        let configuration = try Configuration.parse(
            "[device]\nboard = \"rpi4\"\nboard_dir = \"board\"\n", file: "unit.toml", baseDirectory: folder,
            boardDirectory: "/nonexistent")
        #expect(configuration.boardFile == "\(folder)/board/rpi4.toml")
    }

    @Test func noBoardMeansNoProfile() throws {
        let configuration = try Configuration.parse("[device]\nid = \"u1\"\n", file: "unit.toml")
        #expect(configuration.board == nil && configuration.gpio == nil && configuration.audio == nil)
    }

    @Test(
        "an unknown board names device.board and lists the known ones",
        arguments: [
            ("rpi3", "unknown board 'rpi3' (known: demo, rpi4, rpi5, x86-usb;"),
            ("../etc", "'../etc' is not a board name"),
        ])
    func unknownBoard(board: String, message: String) {
        do {
            _ = try Configuration.parse(Self.unit(board), file: "unit.toml", boardDirectory: repositoryBoards)
            Issue.record("accepted board \(board)")
        } catch {
            #expect(error.issues.count == 1, "\(error)")
            #expect(error.description.hasPrefix("unit.toml:3: device.board: \(message)"), "\(error)")
        }
    }
}

@Suite("Board profile errors")
struct BoardProfileErrorTests {
    /// A folder holding `bad.toml` with `text`.
    static func folder(with text: String) -> String {
        var template = Array("/tmp/vigie-board-XXXXXX".utf8CString)
        let folder = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let fd = open("\(folder)/bad.toml", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        close(fd)
        return folder
    }

    static func remove(_ folder: String) {
        unlink("\(folder)/bad.toml")
        rmdir(folder)
    }

    @Test(
        "an error inside a profile names the profile's file, line and key",
        arguments: [
            ("[gpio]\nchip = \"gpiochip0\"\nbutton_line = 1\n", 2, "gpio.chip", "not /dev/gpiochipN"),
            ("[gpio]\nchip = \"label:\"\n", 2, "gpio.chip", "label:NAME"),
            ("[gpio]\nchip = \"simulated\"\nbutton_line = -1\n", 3, "gpio.button_line", "out of range"),
            ("[gpio]\nchip = \"simulated\"\nbutton_line = 1.5\n", 3, "gpio.button_line", "line number"),
            ("[gpio]\nbutton_line = 1\n", 1, "gpio.chip", "missing"),
            ("[gpio]\nchip = \"simulated\"\nbutton_line = 4\ntamper_line = 4\n", 4, "gpio.tamper_line", "also"),
            ("[gpio]\nchip = \"simulated\"\nbutton_bias = \"up\"\n", 3, "gpio.button_bias", "not a bias"),
            ("[gpio]\nchip = \"simulated\"\nbuton_line = 3\n", 3, "gpio.buton_line", "unknown key"),
            ("[source]\nuri = \"v4l2:/dev/video0\"\nloop = true\n", 3, "source.loop", "unknown key"),
            ("[source]\nuri = \"rtsp://cam\"\n", 2, "source.uri", "not synthetic:"),
            ("\n[uplink]\nbrokers = []\n", 2, "uplink", "unknown key"),
            ("audio = 3\n", 1, "audio", "expected a table"),
            ("[audio]\ncard = \"USB Audio\"\n", 2, "audio.card", "not an ALSA card id"),
            ("[audio]\nmixer_control = \"PCM\"\n", 1, "audio.card", "missing"),
            (
                "[audio]\nfile = \"a.wav\"\nmixer_control = \"PCM\"\n", 3, "audio.mixer_control",
                "only with a sound card"
            ),
            ("[gpio\n", 1, "", "TOML syntax"),
        ])
    func errorInsideAProfile(text: String, line: Int, key: String, message: String) {
        let folder = Self.folder(with: text)
        defer { Self.remove(folder) }
        do {
            _ = try Configuration.parse(
                "[device]\nboard = \"bad\"\n", file: "unit.toml", boardDirectory: folder)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.issues.count == 1, "\(error)")
            let issue = error.issues.first
            #expect(issue?.file == "\(folder)/bad.toml", "\(error)")
            #expect(issue?.line == line, "\(error)")
            #expect(issue?.key == key, "\(error)")
            #expect(issue?.message.contains(message) == true, "\(error)")
        }
    }

    @Test func profileAndConfigurationErrorsAreReportedTogether() {
        let folder = Self.folder(with: "[gpio]\nchip = \"simulated\"\nled_call_line = 70000\n")
        defer { Self.remove(folder) }
        do {
            _ = try Configuration.parse(
                "[device]\nboard = \"bad\"\n[snapshot]\nquality = 0\n", file: "unit.toml", boardDirectory: folder)
            Issue.record("accepted")
        } catch {
            #expect(error.issues.map(\.file) == ["unit.toml", "\(folder)/bad.toml"], "\(error)")
            #expect(error.issues.map(\.key) == ["snapshot.quality", "gpio.led_call_line"], "\(error)")
        }
    }
}

@Suite("GPIO and audio configuration")
struct HardwareConfigurationTests {
    @Test(
        "duplicate GPIO lines are refused at the key the file sets",
        arguments: [
            (
                "[device]\nboard = \"rpi4\"\n[gpio]\nbutton_line = 22\n", "unit.toml", 4, "gpio.button_line",
                "line 22 is also gpio.led_fault_line (\(repositoryBoards)/rpi4.toml:17)"
            ),
            (
                "[gpio]\nchip = \"/dev/gpiochip0\"\nled_call_line = 3\nled_fault_line = 3\n", "unit.toml", 4,
                "gpio.led_fault_line", "line 3 is also gpio.led_call_line (line 3)"
            ),
        ])
    func duplicateLines(text: String, file: String, line: Int, key: String, message: String) {
        do {
            _ = try Configuration.parse(text, file: "unit.toml", boardDirectory: repositoryBoards)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.issues.count == 1, "\(error)")
            #expect(error.description.hasPrefix("\(file):\(line): \(key): \(message)"), "\(error)")
        }
    }

    @Test(
        "chips as written",
        arguments: [
            ("/dev/gpiochip0", GPIOSettings.Chip.path("/dev/gpiochip0")),
            ("/dev/gpiochip12", .path("/dev/gpiochip12")),
            ("label:pinctrl-rp1", .label("pinctrl-rp1")),
            ("label:INT34C5:00", .label("INT34C5:00")),
            ("simulated", .simulated),
        ])
    func chips(text: String, chip: GPIOSettings.Chip) {
        #expect(GPIOSettings.Chip(text) == chip)
        #expect(chip.description == text)
    }

    @Test(
        "chips refused",
        arguments: ["/dev/gpiochip", "/dev/gpiochip1a", "/dev/gpiochip-1", "gpiochip0", "label:", "label:a b", "sim"])
    func badChips(text: String) {
        #expect(GPIOSettings.Chip(text) == nil)
    }

    @Test func aUnitWithoutABoardCanDescribeItsOwnHardware() throws {
        let text = """
            [gpio]
            chip = "/dev/gpiochip0"
            button_line = 4
            button_active_low = false
            button_bias = "pull-down"

            [audio]
            card = "Device"
            mixer_control = "Speaker"
            """
        let configuration = try Configuration.parse(text, file: "unit.toml")
        #expect(
            configuration.gpio
                == GPIOSettings(
                    chip: .path("/dev/gpiochip0"), button: .init(line: 4, activeLow: false, bias: .pullDown)))
        #expect(configuration.audio == AudioSettings(output: .alsa(card: "Device"), mixerControl: "Speaker"))
    }

    @Test func linesMayBeNamedAndTheAnsweredLEDIsOptional() throws {
        let text = """
            [device]
            board = "rpi5"
            [gpio]
            button_line = "GPIO5"
            led_answered_line = "GPIO24"
            led_fault_line = "none"
            """
        let gpio = try #require(try Configuration.parse(text, file: "unit.toml", boardDirectory: repositoryBoards).gpio)
        #expect(gpio.button == GPIOSettings.Input(line: .name("GPIO5"), activeLow: true, bias: .pullUp))
        #expect(gpio.answeredLED == .name("GPIO24") && gpio.line(of: .answeredLED) == .name("GPIO24"))
        #expect(gpio.faultLED == nil && gpio.callLED == 27)
        #expect(gpio.lines.map(\.key) == ["button_line", "led_call_line", "led_answered_line", "tamper_line"])
        #expect(gpio.lines.map(\.line.description) == ["GPIO5", "27", "GPIO24", "23"])
        let profile = try #require(
            try Configuration.parse("[device]\nboard = \"rpi4\"\n", file: "unit.toml", boardDirectory: repositoryBoards)
                .gpio)
        #expect(profile.answeredLED == nil, "the profiles wire no answered LED")
    }

    @Test(
        "bad line names and answered LEDs name file, line and key",
        arguments: [
            (
                "led_answered_line = 3\nled_call_line = 3\n", 3, "gpio.led_answered_line",
                "also gpio.led_call_line (line 4)"
            ),
            ("button_line = \"GPIO5\"\ntamper_line = \"GPIO5\"\n", 4, "gpio.tamper_line", "GPIO5 is also"),
            ("button_line = \"17\"\n", 3, "gpio.button_line", "offset is written without quotes: 17"),
            ("led_answered_line = \"a b\"\n", 3, "gpio.led_answered_line", "not a line name"),
            ("led_answered_line = \"\"\n", 3, "gpio.led_answered_line", "not a line name"),
            ("led_answered_line = 70000\n", 3, "gpio.led_answered_line", "out of range"),
            ("led_answered_line = true\n", 3, "gpio.led_answered_line", "a line name"),
            ("tamper_line = \"\(String(repeating: "x", count: 32))\"\n", 3, "gpio.tamper_line", "1 to 31"),
        ])
    func badLines(lines: String, line: Int, key: String, message: String) {
        let text = "[gpio]\nchip = \"/dev/gpiochip0\"\n" + lines
        do {
            _ = try Configuration.parse(text, file: "unit.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.issues.count == 1, "\(error)")
            #expect(error.description.hasPrefix("unit.toml:\(line): \(key): "), "\(error)")
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test(
        "line names",
        arguments: [
            ("GPIO17", true), ("vigie-button", true), ("ID_SDA", true), ("17", false), ("none", false),
            ("", false), ("a b", false), ("é", false), (String(repeating: "n", count: 31), true),
        ])
    func lineNames(name: String, valid: Bool) {
        #expect(GPIOSettings.Line.isValidName(name) == valid)
    }

    @Test func cardAndFileTogetherAreRefused() {
        do {
            _ = try Configuration.parse("[audio]\ncard = \"PCH\"\nfile = \"a.wav\"\n", file: "unit.toml")
            Issue.record("accepted")
        } catch {
            #expect(error.description.hasPrefix("unit.toml:3: audio.file: give a sound card"), "\(error)")
        }
    }
}
