import VigieCore

/// A chip and where its lines are, looked up without requesting any: for `vigie doctor` and the technician's
/// commands, which must not take a line from a running daemon.
public struct GPIOChipInfo: Sendable, Hashable {
    /// `/dev/gpiochipN`.
    public var path: String
    public var label: String
    public var lineCount: Int
    /// The offset of each line asked for, in order; `nil` for a name the chip has not or an offset past its end.
    public var offsets: [Int?]

    /// Opens `chip` (by path or label) and finds `lines` on it.
    public init(_ chip: GPIOSettings.Chip, lines: [GPIOSettings.Line] = []) throws(GPIOError) {
        let opened = try GPIOChip(chip)
        defer { opened.close() }
        path = opened.path
        label = opened.label
        lineCount = opened.lineCount
        offsets = lines.map { try? opened.offset(of: $0) }
    }
}
