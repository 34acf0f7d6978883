import VigieCore

extension GPIOSettings.Chip {
    /// A chip as a technician types it: `/dev/gpiochip0`, `0` (the same) or `label:pinctrl-rp1`; `nil` otherwise.
    /// `simulated` is refused: a command that drives lines wants hardware.
    public init?(commandLine text: String) {
        if !text.isEmpty, text.count <= 4, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            self = .path("/dev/gpiochip" + text)
            return
        }
        guard let chip = GPIOSettings.Chip(text), chip != .simulated else { return nil }
        self = chip
    }
}

extension GPIOSettings.Line {
    /// A line as a technician types it: digits are an offset (0…`GPIOSettings.maximumLine`), anything else a
    /// line's name (`GPIO17`); `nil` when it is neither.
    public init?(commandLine text: String) {
        if !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            guard text.count <= 6, let offset = Int(text), offset <= GPIOSettings.maximumLine else { return nil }
            self = .offset(offset)
        } else if Self.isValidName(text) {
            self = .name(text)
        } else {
            return nil
        }
    }
}
