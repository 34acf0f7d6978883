// `[tamper]`: camera tamper detection (covered, defocused, moved).

extension ConfigurationReader {
    static let tamperKeys: Set<String> = [
        "enabled", "hold", "relearn", "covered_contrast", "defocus_sharpness", "moved_correlation",
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
        return settings
    }
}
