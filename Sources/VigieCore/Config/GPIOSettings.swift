/// The GPIO lines of a unit: the call point's button and LEDs, and the cabinet's tamper switch.
///
/// Plain validated values (from the board profile and the configuration): the part that drives the lines reads
/// them and needs no further check. Line numbers are offsets on `chip`, all different.
public struct GPIOSettings: Sendable, Hashable {
    /// Which GPIO chip the lines are on.
    public enum Chip: Sendable, Hashable, CustomStringConvertible {
        /// A character device, `/dev/gpiochipN`.
        case path(String)
        /// The chip whose label is this (`label:pinctrl-rp1` in the file), found among `/dev/gpiochip*` when the
        /// unit starts: the same name whatever number the kernel gave the chip.
        case label(String)
        /// No hardware: lines held in memory, for the demo and tests.
        case simulated

        /// As written in a file: `/dev/gpiochip0`, `label:pinctrl-rp1` or `simulated`.
        public var description: String {
            switch self {
            case .path(let path): path
            case .label(let label): "label:\(label)"
            case .simulated: "simulated"
            }
        }

        /// Reads a chip as written in a file; `nil` when it is none of the three forms.
        public init?(_ text: String) {
            if text == "simulated" {
                self = .simulated
            } else if text.hasPrefix("label:") {
                let label = text.dropFirst(6)
                // The kernel keeps at most 31 bytes of a label (GPIO_MAX_NAME_SIZE).
                guard (1...31).contains(label.utf8.count), label.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
                else { return nil }
                self = .label(String(label))
            } else if text.hasPrefix("/dev/gpiochip") {
                let number = text.dropFirst(13)
                guard (1...4).contains(number.count), number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber)
                else { return nil }
                self = .path(text)
            } else {
                return nil
            }
        }
    }

    /// The bias the kernel applies to an input line (libgpiod's names).
    public enum Bias: String, Sendable, Hashable, CaseIterable {
        case pullUp = "pull-up"
        case pullDown = "pull-down"
        case disabled
        case asIs = "as-is"
    }

    /// An input line: a push button or a switch.
    public struct Input: Sendable, Hashable {
        /// Offset of the line on the chip, 0…`GPIOSettings.maximumLine`.
        public var line: Int
        /// True when the line reads low while pressed (or opened): a contact to ground with a pull-up.
        public var activeLow: Bool
        public var bias: Bias

        public init(line: Int, activeLow: Bool, bias: Bias) {
            self.line = line
            self.activeLow = activeLow
            self.bias = bias
        }
    }

    /// Highest line offset accepted (a sanity bound: real chips have tens to a few hundred lines).
    public static let maximumLine = 65_535

    public var chip: Chip
    /// The call point's button (`button_line`); pressed is "active".
    public var button: Input?
    /// The LED that tells the caller the call is going through (`led_call_line`), an output, high is lit.
    public var callLED: Int?
    /// The LED that shows a fault (`led_fault_line`), an output, high is lit.
    public var faultLED: Int?
    /// The cabinet's tamper switch (`tamper_line`); "active" is the door open.
    public var tamper: Input?

    public init(chip: Chip, button: Input? = nil, callLED: Int? = nil, faultLED: Int? = nil, tamper: Input? = nil) {
        self.chip = chip
        self.button = button
        self.callLED = callLED
        self.faultLED = faultLED
        self.tamper = tamper
    }

    /// Every line in use with its key in the file, in the order the keys are documented.
    public var lines: [(key: String, line: Int)] {
        var result: [(key: String, line: Int)] = []
        if let button { result.append(("button_line", button.line)) }
        if let callLED { result.append(("led_call_line", callLED)) }
        if let faultLED { result.append(("led_fault_line", faultLED)) }
        if let tamper { result.append(("tamper_line", tamper.line)) }
        return result
    }
}
