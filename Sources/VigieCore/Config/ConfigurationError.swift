/// One problem in a configuration file, located for the technician who has to fix it.
public struct ConfigurationIssue: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based line, or 0 when the problem is the absence of something.
    public var line: Int
    /// Dotted path of the key, e.g. `mask[2].points`.
    public var key: String
    public var message: String

    public init(file: String, line: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `file:line: key: message`, the form editors and grep understand.
    public var description: String {
        let location = line > 0 ? "\(file):\(line)" : file
        return key.isEmpty ? "\(location): \(message)" : "\(location): \(key): \(message)"
    }
}

/// Every problem found in a configuration. Loading reports all of them at once, not just the first.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var issues: [ConfigurationIssue]

    public init(issues: [ConfigurationIssue]) { self.issues = issues }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
