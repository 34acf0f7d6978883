// `[tamper]`: camera tamper detection (covered, defocused, moved).

extension ConfigurationReader {
    static let tamperKeys: Set<String> = [
        "enabled", "hold", "relearn", "covered_contrast", "defocus_sharpness", "moved_correlation",
        "accept_moved_after",
    ]

    mutating func readTamper(_ table: TOMLTable) -> TamperSettings {
        checkKeys(table, path: "tamper", allowed: Self.tamperKeys)
        var settings = TamperSettings()
        if let value = bool(table, "enabled", path: "tamper") { settings.enabled = value }
        if let value = number(table, "hold", path: "tamper", in: 0.5...60) { settings.hold = value }
        if let value = number(table, "relearn", path: "tamper", in: 5...3600) { settings.relearn = value }
        if let value = number(table, "covered_contrast", path: "tamper", in: 0.01...0.9) {
            settings.coveredContrast = value
        }
        if let value = number(table, "defocus_sharpness", path: "tamper", in: 0.01...0.9) {
            settings.defocusSharpness = value
        }
        if let value = number(table, "moved_correlation", path: "tamper", in: 0.01...0.95) {
            settings.movedCorrelation = value
        }
        if let value = number(table, "accept_moved_after", path: "tamper", in: 0...604_800) {
            // Shorter than a minute would take a camera being turned, or put back, for its new place.
            if value > 0 && value < 60 {
                issue(
                    table["accept_moved_after"]?.line ?? table.line, "tamper.accept_moved_after",
                    "expected 0 (never) or from 60 to 604800 seconds, got \(value)")
            } else {
                settings.acceptMovedAfter = value
            }
        }
        return settings
    }
}
