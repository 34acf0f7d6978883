// `[callpoint]`: how the emergency call point behaves (its lines are in `[gpio]`).

extension ConfigurationReader {
    static let callPointKeys: Set<String> = [
        "press", "debounce", "long_press", "double_press_window", "stuck_after", "call_timeout", "reassure_interval",
        "selftest_interval", "acknowledgement", "answered_message", "ended_message",
    ]

    mutating func readCallPoint(_ table: TOMLTable) -> CallPointSettings {
        checkKeys(table, path: "callpoint", allowed: Self.callPointKeys)
        var settings = CallPointSettings()
        if let press = string(table, "press", path: "callpoint") {
            if let mode = CallPointSettings.PressMode(rawValue: press.value) {
                settings.press = mode
            } else {
                let known = CallPointSettings.PressMode.allCases.map(\.rawValue).joined(separator: ", ")
                issue(press.line, "callpoint.press", "'\(press.value.prefix(64))' is not a press mode (\(known))")
            }
        }
        if let value = number(table, "debounce", path: "callpoint", in: 0.001...1) { settings.debounce = value }
        if let value = number(table, "long_press", path: "callpoint", in: 0.5...10) { settings.longPress = value }
        if let value = number(table, "double_press_window", path: "callpoint", in: 0.2...5) {
            settings.doublePressWindow = value
        }
        if let value = number(table, "stuck_after", path: "callpoint", in: 1...3600) { settings.stuckAfter = value }
        if let value = number(table, "call_timeout", path: "callpoint", in: 10...7200) { settings.callTimeout = value }
        if let value = number(table, "reassure_interval", path: "callpoint", in: 1...600) {
            settings.reassureInterval = value
        }
        if let value = number(
            table, "selftest_interval", path: "callpoint", in: 60...CallPointSettings.maximumSelfTestInterval)
        {
            settings.selfTestInterval = value
        }
        // Else a long press would be a stuck button and never a call.
        if settings.press == .long, settings.longPress >= settings.stuckAfter {
            let key = table["long_press"] != nil ? "long_press" : "stuck_after"
            issue(
                table[key]?.line ?? table.line, "callpoint.\(key)",
                "long_press (\(settings.longPress) s) must be shorter than stuck_after (\(settings.stuckAfter) s)")
        }
        if let text = message(table, "acknowledgement", optional: false) { settings.acknowledgement = text }
        if let text = message(table, "answered_message", optional: true) {
            settings.answeredMessage = text.isEmpty ? nil : text
        }
        if let text = message(table, "ended_message", optional: true) {
            settings.endedMessage = text.isEmpty ? nil : text
        }
        return settings
    }

    /// The caller's sentences must fit the speaker's `max_text`, or the caller would hear nothing.
    mutating func checkCallPointMessages(_ table: TOMLTable?, speaker: SpeakerSettings?, callPoint: CallPointSettings) {
        guard let limit = speaker?.queue.maximumTextLength else { return }
        let messages: [(String, String?)] = [
            ("acknowledgement", callPoint.acknowledgement), ("answered_message", callPoint.answeredMessage),
            ("ended_message", callPoint.endedMessage),
        ]
        for case (let key, let text?) in messages where text.count > limit {
            issue(
                table?[key]?.line ?? table?.line ?? 1, "callpoint.\(key)",
                "\(text.count) characters; the speaker says at most [speaker] max_text = \(limit)")
        }
    }

    /// A sentence for the caller: at most 500 characters; `""` switches an optional one off.
    private mutating func message(_ table: TOMLTable, _ key: String, optional: Bool) -> String? {
        guard let text = string(table, key, path: "callpoint") else { return nil }
        if text.value.allSatisfy(\.isWhitespace) && !(optional && text.value.isEmpty) {
            issue(text.line, "callpoint.\(key)", optional ? "empty: write \"\" to say nothing" : "empty")
            return nil
        }
        guard text.value.count <= 500 else {
            issue(text.line, "callpoint.\(key)", "\(text.value.count) characters; the limit is 500")
            return nil
        }
        return text.value
    }
}
