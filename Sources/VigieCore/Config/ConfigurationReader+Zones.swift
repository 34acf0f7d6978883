// `[[zone]]` (motion, intrusion and density zones, their schedules) and `[crowd]`.

extension ConfigurationReader {
    static let zoneKeys: Set<String> = [
        "name", "points", "kind", "sensitivity", "min_area", "schedule", "holidays", "dwell", "high_occupancy", "say",
        "play",
    ]
    static let crowdKeys: Set<String> = ["enabled", "jump", "window", "hold", "rearm"]

    /// One `[[zone]]` table; `names` are the zone names seen so far (a name defined twice is an issue).
    mutating func readZone(
        _ zone: TOMLTable, index: Int, motion: MotionSettings, names: inout Set<String>
    ) -> Zone {
        let path = "zone[\(index + 1)]"
        checkKeys(zone, path: path, allowed: Self.zoneKeys)
        let name = string(zone, "name", path: path)
        if let name, !names.insert(name.value).inserted {
            issue(name.line, "\(path).name", "zone '\(name.value)' is defined twice")
        }
        let zoneName = name?.value ?? "zone \(index + 1)"
        var kind = Zone.Kind.motion
        if let text = string(zone, "kind", path: path) {
            if let value = Zone.Kind(rawValue: text.value) {
                kind = value
            } else {
                let kinds = Zone.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                issue(text.line, "\(path).kind", "'\(text.value)' is not a zone kind (\(kinds))")
            }
        }
        // Keys that would be silently ignored on this kind of zone are refused, so a typo in `kind` shows.
        func refuse(_ key: String, unless kinds: [Zone.Kind], why: String) {
            guard !kinds.contains(kind), let value = zone[key] else { return }
            issue(value.line, "\(path).\(key)", "does not apply to a \(kind.rawValue) zone: \(why)")
        }
        refuse("sensitivity", unless: [.motion], why: "rule zones read the detection of the motion zones")
        refuse("min_area", unless: [.motion, .intrusion], why: "a density zone measures the share of moving cells")
        refuse("schedule", unless: [.intrusion, .density], why: "motion zones follow the unit's arm and disarm")
        refuse("holidays", unless: [.intrusion, .density], why: "motion zones follow the unit's arm and disarm")
        refuse("dwell", unless: [.intrusion, .density], why: "it is the time an intrusion or a density lasts")
        refuse("high_occupancy", unless: [.density], why: "it is the share of a density zone covered by motion")
        refuse("say", unless: [.intrusion, .density], why: "a motion zone raises no alert to warn of")
        refuse("play", unless: [.intrusion, .density], why: "a motion zone raises no alert to warn of")

        let outline = polygon(zone, path: path, name: zoneName, required: false)
        var result = Zone(
            name: zoneName, polygon: outline,
            sensitivity: number(zone, "sensitivity", path: path, in: 0...1) ?? motion.sensitivity,
            minimumArea: number(zone, "min_area", path: path, in: 0.00001...1) ?? motion.minimumArea, kind: kind)
        if let dwell = number(zone, "dwell", path: path, in: 0...3600) { result.dwell = dwell }
        if let share = number(zone, "high_occupancy", path: path, in: 0.01...0.99) { result.highOccupancy = share }
        result.schedule = schedule(zone, path: path)
        if kind != .motion { result.warning = warning(zone, path: path) }
        return result
    }

    /// A zone's or a line's `say = "…"` or `play = "clip"`, at most one of them; `nil` when neither is set.
    mutating func warning(_ table: TOMLTable, path: String) -> RuleWarning? {
        let text = string(table, "say", path: path)
        let clip = string(table, "play", path: path)
        if text != nil, let clip {
            issue(clip.line, "\(path).play", "say is set too: a rule's warning is one or the other")
            return nil
        }
        if let text {
            guard !text.value.allSatisfy(\.isWhitespace) else {
                issue(text.line, "\(path).say", "empty: leave the key out to say nothing")
                return nil
            }
            warnings.append((.say(text.value), text.line, "\(path).say"))
            return .say(text.value)
        }
        if let clip {
            guard ClipLibrary.isValidID(clip.value) else {
                issue(
                    clip.line, "\(path).play",
                    "'\(clip.value)' is not a clip id (a WAV file's name in clips_dir, without .wav)")
                return nil
            }
            warnings.append((.play(clip.value), clip.line, "\(path).play"))
            return .play(clip.value)
        }
        return nil
    }

    /// A warning needs a speaker, and a spoken one must fit its `max_text`; a clip must come from `clips_dir`.
    mutating func checkWarnings(speaker: SpeakerSettings?) {
        for (warning, line, key) in warnings {
            if speaker == nil {
                issue(line, key, "the unit has no speaker: set [audio] or [speaker]")
                continue
            }
            switch warning {
            case .say(let text):
                if let limit = speaker?.queue.maximumTextLength, text.count > limit {
                    issue(line, key, "\(text.count) characters; the speaker says at most [speaker] max_text = \(limit)")
                }
            case .play:
                if speaker?.clipsDirectory == nil {
                    issue(line, key, "the speaker has no clips: set [speaker] clips_dir")
                }
            }
        }
    }

    private mutating func schedule(_ zone: TOMLTable, path: String) -> ZoneSchedule {
        let ranges = strings(zone, "schedule", path: path)
        let holidays = strings(zone, "holidays", path: path)
        var parsed: [ZoneSchedule.Range] = []
        for (index, item) in (ranges ?? []).enumerated() {
            do {
                parsed.append(try ZoneSchedule.parseRange(item.value))
            } catch {
                issue(item.line, "\(path).schedule[\(index + 1)]", error.description)
            }
        }
        var days: Set<Int> = []
        for (index, item) in (holidays ?? []).enumerated() {
            if let date = LocalTime.parseDate(item.value) {
                days.insert(LocalTime.daysFromCivil(year: date.year, month: date.month, day: date.day))
            } else {
                issue(item.line, "\(path).holidays[\(index + 1)]", "'\(item.value)' is not a date YYYY-MM-DD")
            }
        }
        if holidays != nil && ranges == nil, let value = zone["holidays"] {
            issue(value.line, "\(path).holidays", "holidays need a schedule (without one the zone is always armed)")
        }
        return ranges == nil ? .always : ZoneSchedule(ranges: parsed, holidays: days)
    }

    /// A list of strings, each with its line; `nil` when the key is absent.
    private mutating func strings(_ parent: TOMLTable, _ key: String, path: String) -> [(value: String, line: Int)]? {
        guard let value = parent[key] else { return nil }
        guard case .array(let items) = value.kind else {
            issue(value.line, join(path, key), "expected a list of strings, e.g. [\"mon-fri 18:00-07:30\"]")
            return nil
        }
        var result: [(value: String, line: Int)] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item.kind else {
                issue(item.line, "\(join(path, key))[\(index + 1)]", "expected a string in quotes")
                continue
            }
            result.append((text, item.line))
        }
        return result
    }

    mutating func readCrowd(_ table: TOMLTable) -> CrowdSettings {
        checkKeys(table, path: "crowd", allowed: Self.crowdKeys)
        var settings = CrowdSettings()
        if let value = bool(table, "enabled", path: "crowd") { settings.enabled = value }
        if let value = number(table, "jump", path: "crowd", in: 0.02...0.9) { settings.jump = value }
        if let value = number(table, "window", path: "crowd", in: 0.2...10) { settings.window = value }
        if let value = number(table, "hold", path: "crowd", in: 0...60) { settings.hold = value }
        if let value = number(table, "rearm", path: "crowd", in: 0...3600) { settings.rearm = value }
        return settings
    }

    /// Motion is only looked for inside the motion zones when there are some: a rule zone or a line that reaches
    /// outside them would be blind there, without a word. Refused, on the rule's `points` (or `from`).
    mutating func checkRulesAreWatched(
        zones: [Zone], zoneTables: [TOMLTable], lines: [LineRule], lineTables: [TOMLTable]
    ) {
        let watched = zones.filter { $0.kind == .motion }
        guard !watched.isEmpty, !watched.contains(where: { $0.polygon == nil }) else { return }
        func isWatched(_ point: NormalizedPoint) -> Bool { watched.contains { $0.contains(point) } }
        let names = watched.map { "'\($0.name)'" }.joined(separator: ", ")
        for (index, zone) in zones.enumerated() where zone.kind != .motion && index < zoneTables.count {
            // Points on a 24 × 24 lattice over the zone's bounds, kept when inside it (always at least its corners'
            // neighbourhood: a zone is never thinner than the lattice's step allows to miss entirely).
            let corners = zone.polygon?.points ?? [NormalizedPoint(x: 0, y: 0), NormalizedPoint(x: 1, y: 1)]
            let left = corners.map(\.x).min() ?? 0
            let right = corners.map(\.x).max() ?? 1
            let top = corners.map(\.y).min() ?? 0
            let bottom = corners.map(\.y).max() ?? 1
            let steps = 24
            var blind = false
            for row in 0...steps where !blind {
                for column in 0...steps {
                    let point = NormalizedPoint(
                        x: left + (right - left) * (Double(column) + 0.5) / Double(steps + 1),
                        y: top + (bottom - top) * (Double(row) + 0.5) / Double(steps + 1))
                    if zone.contains(point), !isWatched(point) {
                        blind = true
                        break
                    }
                }
            }
            if blind {
                let line = zoneTables[index]["points"]?.line ?? zoneTables[index]["kind"]?.line ?? 0
                issue(
                    line, "zone[\(index + 1)].points",
                    "the \(zone.kind.rawValue) zone '\(zone.name)' reaches outside the motion zones (\(names)): motion "
                        + "is only looked for inside them; draw a motion zone over it too")
            }
        }
        for (index, table) in lineTables.enumerated() {
            guard case .string(let name)? = table["name"]?.kind, let rule = lines.first(where: { $0.name == name })
            else { continue }
            let blind = (0...32).contains { step in
                let t = Double(step) / 32
                return !isWatched(
                    NormalizedPoint(
                        x: rule.from.x + (rule.to.x - rule.from.x) * t, y: rule.from.y + (rule.to.y - rule.from.y) * t))
            }
            if blind {
                issue(
                    table["from"]?.line ?? table["name"]?.line ?? 0, "line[\(index + 1)].from",
                    "the line '\(name)' reaches outside the motion zones (\(names)): motion is only looked for "
                        + "inside them; draw a motion zone over it too")
            }
        }
    }
}
