// `[[line]]` (line crossing and wrong way) and `[abandoned]` (objects left behind).

extension ConfigurationReader {
    static let lineKeys: Set<String> = ["name", "from", "to", "direction", "say", "play"]
    static let abandonedKeys: Set<String> = ["enabled", "seconds", "min_area", "max_area"]

    mutating func readLines(_ tables: [TOMLTable]) -> [LineRule] {
        var lines: [LineRule] = []
        var names: Set<String> = []
        for (index, table) in tables.enumerated() {
            let path = "line[\(index + 1)]"
            checkKeys(table, path: path, allowed: Self.lineKeys)
            let name = string(table, "name", path: path)
            if let name {
                if name.value.isEmpty || name.value.utf8.count > 64 {
                    issue(name.line, "\(path).name", "a line's name is 1 to 64 characters")
                } else if !names.insert(name.value).inserted {
                    issue(name.line, "\(path).name", "line '\(name.value)' is defined twice")
                }
            }
            let from = point(table, "from", path: path)
            let to = point(table, "to", path: path)
            var direction = LineDirection.any
            let text = string(table, "direction", path: path)
            if let text {
                if let value = LineDirection(rawValue: text.value) {
                    direction = value
                } else {
                    let known = LineDirection.allCases.map(\.rawValue).joined(separator: ", ")
                    issue(text.line, "\(path).direction", "'\(text.value)' is not a direction (\(known))")
                }
            }
            let warning = warning(table, path: path)
            guard let from, let to else { continue }
            var line = LineRule(
                name: name?.value ?? "line \(index + 1)", from: from, to: to, direction: direction)
            line.warning = warning
            if let problem = line.problem {
                if problem.hasPrefix("from") {
                    issue(table["to"]?.line ?? table.line, "\(path).to", problem)
                } else {
                    issue(text?.line ?? table.line, "\(path).direction", problem)
                }
                continue
            }
            lines.append(line)
        }
        return lines
    }

    mutating func readAbandoned(_ table: TOMLTable) -> AbandonedSettings {
        checkKeys(table, path: "abandoned", allowed: Self.abandonedKeys)
        var settings = AbandonedSettings()
        settings.enabled = bool(table, "enabled", path: "abandoned") ?? true
        if let value = number(table, "seconds", path: "abandoned", in: 5...86_400) { settings.seconds = value }
        let minimum = number(table, "min_area", path: "abandoned", in: 0.00001...1)
        let maximum = number(table, "max_area", path: "abandoned", in: 0.00001...1)
        if let minimum { settings.minimumArea = minimum }
        if let maximum { settings.maximumArea = maximum }
        if settings.minimumArea > settings.maximumArea {
            let key = maximum != nil ? "max_area" : "min_area"
            issue(
                table[key]?.line ?? table.line, "abandoned.\(key)",
                "min_area (\(settings.minimumArea)) is larger than max_area (\(settings.maximumArea))")
        }
        return settings
    }

    /// A point `[x, y]` in fractions of the image, required.
    private mutating func point(_ table: TOMLTable, _ key: String, path: String) -> NormalizedPoint? {
        guard let value = table[key] else {
            issue(table.line, "\(path).\(key)", "missing: a point [x, y], fractions of the image")
            return nil
        }
        guard case .array(let pair) = value.kind, pair.count == 2, let x = Self.double(pair[0]),
            let y = Self.double(pair[1])
        else {
            issue(value.line, "\(path).\(key)", "expected a point [x, y], e.g. [0.2, 0.7]")
            return nil
        }
        guard x.isFinite, y.isFinite, (0...1).contains(x), (0...1).contains(y) else {
            issue(value.line, "\(path).\(key)", "[\(x), \(y)] is outside the image (0 to 1)")
            return nil
        }
        return NormalizedPoint(x: x, y: y)
    }
}
