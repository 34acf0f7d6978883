// Selecting a board profile and laying it under the configuration: the file's own keys win, key by key.

extension ConfigurationReader {
    /// The keys of `[source]`, `[gpio]` and `[audio]`.
    static let sourceKeys: Set<String> = ["uri", "loop", "width", "height", "fps"]
    static let gpioKeys: Set<String> = [
        "chip", "button_line", "button_active_low", "button_bias", "led_call_line", "led_answered_line",
        "led_fault_line", "tamper_line", "tamper_active_low", "tamper_bias",
    ]
    static let audioKeys: Set<String> = ["card", "file", "mixer_control"]

    /// What a board profile may set: the hardware, never the site (masks, zones, uplink).
    static let profileKeys: [String: Set<String>] = [
        "source": ["uri", "width", "height", "fps"], "gpio": gpioKeys, "audio": audioKeys,
    ]

    /// Keys that together choose one thing: when the configuration sets any of the first, none of the second
    /// come from the profile (another sound card has other mixer controls).
    static let profileChoices: [String: (chosenBy: Set<String>, drops: Set<String>)] = [
        "audio": (["card", "file"], ["card", "file", "mixer_control"])
    ]

    /// The board the configuration selects, and the configuration with the profile's keys added under its own.
    ///
    /// Reads `[device] board` and `board_dir` (the rest of `[device]` is left to `read`). Problems go to `issues`;
    /// a profile that cannot be had leaves the configuration as it is.
    mutating func applyBoard(_ root: TOMLTable, baseDirectory: String, boardDirectory: String) -> (
        root: TOMLTable, name: String?, file: String?
    ) {
        guard case .table(let device)? = root["device"]?.kind else { return (root, nil, nil) }
        var directory = boardDirectory
        if let folder = string(device, "board_dir", path: "device") {
            if folder.value.isEmpty {
                issue(folder.line, "device.board_dir", "expected a folder of board profiles")
            } else {
                directory = folder.value.hasPrefix("/") ? folder.value : baseDirectory + "/" + folder.value
            }
        }
        guard let board = string(device, "board", path: "device") else { return (root, nil, nil) }
        let profile: BoardProfiles.Profile
        do {
            profile = try BoardProfiles(directory: directory).profile(named: board.value)
        } catch {
            switch error {
            case .invalidName:
                issue(board.line, "device.board", "'\(board.value.prefix(64))' is not a board name")
            case .unknown(let known):
                issue(
                    board.line, "device.board",
                    "unknown board '\(board.value)' (known: \(known.joined(separator: ", ")); profiles are read from "
                        + "\(directory), or device.board_dir)")
            case .unreadable(let file, let reason):
                issues.append(ConfigurationIssue(file: file, line: 0, key: "", message: reason))
            }
            return (root, nil, nil)
        }
        let tree: TOMLTable
        do {
            tree = try TOML.parse(profile.text)
        } catch {
            issues.append(
                ConfigurationIssue(
                    file: profile.file, line: error.line, key: "", message: "TOML syntax: \(error.message)"))
            return (root, board.value, profile.file)
        }
        profileFile = profile.file
        return (merge(checkedProfile(tree, file: profile.file), into: root), board.value, profile.file)
    }

    /// The profile's sections and keys that a profile may set; the others are reported in the profile's file.
    private mutating func checkedProfile(_ profile: TOMLTable, file: String) -> TOMLTable {
        var sections: [TOMLTable.Entry] = []
        let sectionNames = Self.profileKeys.keys.sorted().joined(separator: ", ")
        for section in profile.entries {
            guard let allowed = Self.profileKeys[section.key] else {
                issues.append(
                    ConfigurationIssue(
                        file: file, line: section.keyLine, key: section.key,
                        message: "unknown key (a board profile has: \(sectionNames))"))
                continue
            }
            guard case .table(let table) = section.value.kind else {
                issues.append(
                    ConfigurationIssue(
                        file: file, line: section.value.line, key: section.key,
                        message: "expected a table ([\(section.key)])"))
                continue
            }
            var kept: [TOMLTable.Entry] = []
            for entry in table.entries {
                if allowed.contains(entry.key) {
                    kept.append(entry)
                } else {
                    let known = allowed.sorted().joined(separator: ", ")
                    issues.append(
                        ConfigurationIssue(
                            file: file, line: entry.keyLine, key: "\(section.key).\(entry.key)",
                            message: "unknown key (known in a board profile: \(known))"))
                }
            }
            var checked = section
            checked.value.kind = .table(TOMLTable(entries: kept, line: table.line))
            sections.append(checked)
        }
        return TOMLTable(entries: sections, line: profile.line)
    }

    /// `configuration` with each key of `profile` it does not set itself; remembers those keys in `profileKeys`.
    private mutating func merge(_ profile: TOMLTable, into configuration: TOMLTable) -> TOMLTable {
        var entries = configuration.entries
        for section in profile.entries {
            guard case .table(let extra) = section.value.kind else { continue }
            guard let index = entries.firstIndex(where: { $0.key == section.key }) else {
                entries.append(section)
                profileKeys.insert(section.key)
                continue
            }
            // A section that is not a table is reported by `read`; the profile cannot mend it.
            guard case .table(let own) = entries[index].value.kind else { continue }
            var dropped: Set<String> = []
            if let choice = Self.profileChoices[section.key], own.keys.contains(where: choice.chosenBy.contains) {
                dropped = choice.drops
            }
            var merged = own.entries
            for entry in extra.entries where own[entry.key] == nil && !dropped.contains(entry.key) {
                merged.append(entry)
                profileKeys.insert("\(section.key).\(entry.key)")
            }
            entries[index].value.kind = .table(TOMLTable(entries: merged, line: own.line))
        }
        return TOMLTable(entries: entries, line: configuration.line)
    }
}
