/// The GPIO lines of a unit: the call point's button and LEDs, and the cabinet's tamper switch.
///
/// Plain validated values (from the board profile and the configuration): the part that drives the lines reads
/// them and needs no further check. Lines are offsets on `chip` or names the chip gives its lines, all different;
/// a name is resolved when the lines are opened (an offset and a name may still turn out to be the same line then).
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

    /// One line of the chip: by offset, or by the name the chip's driver (or the device tree) gives it.
    ///
    /// Names exist because boards renumber: the same header pin is another offset on another chip revision, while
    /// its name (`GPIO17`) stays. An integer literal is an offset.
    public enum Line: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral {
        /// 0…`GPIOSettings.maximumLine`.
        case offset(Int)
        /// As `gpioinfo` shows it; checked by `isValidName`.
        case name(String)

        public init(integerLiteral value: Int) { self = .offset(value) }

        /// The offset, when the line is given by one.
        public var offset: Int? {
            if case .offset(let offset) = self { offset } else { nil }
        }

        /// As written in a file, without quotes: `17` or `GPIO17`.
        public var description: String {
            switch self {
            case .offset(let offset): "\(offset)"
            case .name(let name): name
            }
        }

        /// Whether `text` can be a line's name: 1 to 31 printable ASCII bytes without spaces (the kernel keeps 31,
        /// GPIO_MAX_NAME_SIZE), not only digits (that would read as an offset) and not `none` (which switches a
        /// line off in the file).
        public static func isValidName(_ text: String) -> Bool {
            (1...31).contains(text.utf8.count) && text.utf8.allSatisfy { (0x21...0x7E).contains($0) }
                && !text.utf8.allSatisfy { (0x30...0x39).contains($0) } && text != "none"
        }
    }

    /// An input line: a push button or a switch.
    public struct Input: Sendable, Hashable {
        /// The line on the chip.
        public var line: Line
        /// True when the line reads low while pressed (or opened): a contact to ground with a pull-up.
        public var activeLow: Bool
        public var bias: Bias

        public init(line: Line, activeLow: Bool, bias: Bias) {
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
    /// The LED that tells the caller the call is registered (`led_call_line`, yellow in EN 81-28), an output,
    /// high is lit.
    public var callLED: Line?
    /// The LED that tells the caller the centre answered (`led_answered_line`, green in EN 81-28), an output, high
    /// is lit. Optional: a unit without it shows the answer on the call LED.
    public var answeredLED: Line?
    /// The LED that shows a fault (`led_fault_line`), an output, high is lit.
    public var faultLED: Line?
    /// The cabinet's tamper switch (`tamper_line`); "active" is the door open.
    public var tamper: Input?

    public init(
        chip: Chip, button: Input? = nil, callLED: Line? = nil, answeredLED: Line? = nil, faultLED: Line? = nil,
        tamper: Input? = nil
    ) {
        self.chip = chip
        self.button = button
        self.callLED = callLED
        self.answeredLED = answeredLED
        self.faultLED = faultLED
        self.tamper = tamper
    }

    /// The line of an output role, if the unit has one.
    public func line(of output: GPIOOutput) -> Line? {
        switch output {
        case .callLED: callLED
        case .answeredLED: answeredLED
        case .faultLED: faultLED
        }
    }

    /// The input line of a role, if the unit has one.
    public func input(_ role: GPIOInput) -> Input? {
        switch role {
        case .button: button
        case .tamper: tamper
        }
    }

    /// Every line in use with its key in the file, in the order the keys are documented.
    public var lines: [(key: String, line: Line)] {
        var result: [(key: String, line: Line)] = []
        if let button { result.append(("button_line", button.line)) }
        if let callLED { result.append(("led_call_line", callLED)) }
        if let answeredLED { result.append(("led_answered_line", answeredLED)) }
        if let faultLED { result.append(("led_fault_line", faultLED)) }
        if let tamper { result.append(("tamper_line", tamper.line)) }
        return result
    }
}
