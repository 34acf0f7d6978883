import Testing
import VigieCore
import VigieGPIO

/// What needs no GPIO chip: the technician's ways of naming chips and lines, and the errors of a chip that is not
/// there.
@Suite("GPIO without hardware")
struct GPIOUnitTests {
    @Test(
        "chips as typed",
        arguments: [
            ("0", GPIOSettings.Chip.path("/dev/gpiochip0")), ("12", .path("/dev/gpiochip12")),
            ("/dev/gpiochip3", .path("/dev/gpiochip3")), ("label:vigie-sim", .label("vigie-sim")),
        ])
    func chips(text: String, chip: GPIOSettings.Chip) {
        #expect(GPIOSettings.Chip(commandLine: text) == chip)
    }

    @Test("chips refused", arguments: ["", "12345", "-1", "gpiochip0", "simulated", "label:", "/dev/gpiochipx"])
    func badChips(text: String) {
        #expect(GPIOSettings.Chip(commandLine: text) == nil)
    }

    @Test(
        "lines as typed",
        arguments: [
            ("17", GPIOSettings.Line.offset(17)), ("0", .offset(0)), ("65535", .offset(65535)),
            ("GPIO17", .name("GPIO17")), ("vigie-button", .name("vigie-button")),
        ])
    func lines(text: String, line: GPIOSettings.Line) {
        #expect(GPIOSettings.Line(commandLine: text) == line)
    }

    @Test("lines refused", arguments: ["", "65536", "9999999", "a b", "none", "-1x y"])
    func badLines(text: String) {
        #expect(GPIOSettings.Line(commandLine: text) == nil)
    }

    @Test func aMissingChipIsAnOpenErrorNamingIt() {
        let settings = GPIOSettings(
            chip: .path("/dev/gpiochip999"), button: .init(line: 0, activeLow: true, bias: .pullUp))
        #expect {
            _ = try LibgpiodLines(settings)
        } throws: { error in
            let error = error as? GPIOError
            return error?.operation == "open" && error?.reason == "/dev/gpiochip999: No such file or directory"
        }
        #expect {
            _ = try GPIOChipInfo(.label("no-such-chip"))
        } throws: { error in
            (error as? GPIOError)?.reason.contains("no GPIO chip labelled 'no-such-chip'") == true
        }
        #expect(throws: GPIOError.self) { _ = try LibgpiodLines(GPIOSettings(chip: .simulated)) }
    }

    @Test func theCommandsFailClearlyWithoutTheChip() throws {
        let missing = try CLIProcess.run("button", "watch", "--chip", "999", "--line", "0")
        #expect(missing.status == 1)
        #expect(missing.errors.contains("GPIO open: /dev/gpiochip999: No such file or directory"), "\(missing.errors)")
        let typo = try CLIProcess.run("button", "watch", "--chip", "gpiochip0", "--line", "0")
        #expect(typo.status == 64)
        #expect(typo.errors.contains("--chip gpiochip0: not /dev/gpiochipN"), "\(typo.errors)")
        let bias = try CLIProcess.run("button", "watch", "--chip", "0", "--line", "GPIO17", "--bias", "up")
        #expect(bias.status == 64 && bias.errors.contains("--bias up"), "\(bias.errors)")
        let both = try CLIProcess.run("led", "test", "--board", "rpi5", "--config", "/dev/null")
        #expect(both.status == 64 && both.errors.contains("give --config or --board"), "\(both.errors)")
        let demo = try CLIProcess.run("led", "test", "--board", "demo")
        #expect(demo.status == 1 && demo.errors.contains("no GPIO chip"), "\(demo.errors)")
    }
}
