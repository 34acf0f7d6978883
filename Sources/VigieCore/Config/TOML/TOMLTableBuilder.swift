// The mutable table tree used while parsing, and the TOML 1.0 rules about which
// tables may be defined, extended or appended to. Converted to the immutable
// `TOMLTable` once the whole document has been read.

/// One segment of a (possibly dotted) key, with where it was written.
struct TOMLKeyPart {
    var name: String
    var line: Int
    var column: Int
}

/// A table under construction.
final class TOMLTableNode {
    /// How a table came into existence; decides what may later reopen it.
    enum Origin {
        /// The document root.
        case root
        /// Defined by a `[header]`: cannot be defined again nor extended by dotted keys.
        case header
        /// Created as a parent by a header such as `[a.b]` (for `a`): may be defined once by its own header.
        case implicit
        /// Created by a dotted key (`a.b = 1` for `a`): may be extended by dotted keys, not defined by a header.
        case dotted
        /// An element of an array of tables (`[[a]]`).
        case arrayElement
        /// An inline table `{ ... }` being read.
        case inline
    }

    /// A key's value while building.
    enum Item {
        /// A finished value: scalar, static array or inline table. Frozen.
        case value(TOMLValue)
        /// A table that may still receive keys.
        case table(TOMLTableNode)
        /// An array of tables that `[[header]]` may still append to.
        case tableArray(TOMLTableArrayNode)
    }

    /// A key, its position and its item.
    struct Slot {
        var key: String
        var keyLine: Int
        var keyColumn: Int
        var item: Item
    }

    var origin: Origin
    /// 0 for the root, parent's depth + 1 for child tables.
    let depth: Int
    var line: Int
    var column: Int
    private(set) var slots: [Slot] = []
    private var index: [String: Int] = [:]

    init(origin: Origin, depth: Int, line: Int, column: Int) {
        self.origin = origin
        self.depth = depth
        self.line = line
        self.column = column
    }

    /// The slot index for `key`, if present.
    func slotIndex(_ key: String) -> Int? {
        index[key]
    }

    /// The slot at `i`.
    func slot(at i: Int) -> Slot {
        slots[i]
    }

    /// Adds a new key; the caller has checked it is absent.
    func add(_ part: TOMLKeyPart, _ item: Item) {
        index[part.name] = slots.count
        slots.append(Slot(key: part.name, keyLine: part.line, keyColumn: part.column, item: item))
    }

    /// Moves the key position of slot `i` (used when an implicit table gets its own header).
    func moveKey(at i: Int, to part: TOMLKeyPart) {
        slots[i].keyLine = part.line
        slots[i].keyColumn = part.column
    }

    /// The immutable table.
    func makeTable() -> TOMLTable {
        var entries: [TOMLTable.Entry] = []
        entries.reserveCapacity(slots.count)
        for slot in slots {
            entries.append(
                TOMLTable.Entry(
                    key: slot.key, keyLine: slot.keyLine, keyColumn: slot.keyColumn, value: slot.item.makeValue()))
        }
        return TOMLTable(entries: entries, line: line)
    }

    /// The immutable table wrapped as a value at this table's position.
    func makeValue() -> TOMLValue {
        TOMLValue(kind: .table(makeTable()), line: line, column: column)
    }
}

/// An array of tables under construction (a class so appending does not copy).
final class TOMLTableArrayNode {
    var tables: [TOMLTableNode] = []
    let line: Int
    let column: Int

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

extension TOMLTableNode.Item {
    /// The immutable value.
    func makeValue() -> TOMLValue {
        switch self {
        case .value(let value):
            return value
        case .table(let node):
            return node.makeValue()
        case .tableArray(let array):
            return TOMLValue(kind: .array(array.tables.map { $0.makeValue() }), line: array.line, column: array.column)
        }
    }
}

/// The TOML 1.0 table-definition rules.
enum TOMLTableRules {
    /// A key for messages: `x y` for one segment, `a.b."c d"` for a dotted key
    /// (segments that are not bare keys quoted).
    static func display(_ parts: ArraySlice<TOMLKeyPart>) -> String {
        if parts.count == 1, let only = parts.first { return only.name }
        var out = ""
        for part in parts {
            if !out.isEmpty { out += "." }
            let bare = !part.name.isEmpty && part.name.utf8.allSatisfy(TOMLTableRules.isBareKeyByte)
            out += bare ? part.name : "\"" + part.name + "\""
        }
        return out
    }

    /// `A-Z a-z 0-9 _ -`.
    static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
    }

    static func error(_ message: String, at part: TOMLKeyPart) -> TOMLError {
        TOMLError(line: part.line, column: part.column, message: message)
    }

    static func depthError(at part: TOMLKeyPart) -> TOMLError {
        error("tables are nested deeper than \(TOML.maximumDepth) levels", at: part)
    }

    /// Walks the parents of a header `[a.b.c]` / `[[a.b.c]]` (all parts but the last), creating
    /// implicit tables, and returns the table that will hold the last part.
    private static func headerParent(_ parts: [TOMLKeyPart], root: TOMLTableNode) throws(TOMLError) -> TOMLTableNode {
        var table = root
        for i in 0..<(parts.count - 1) {
            let part = parts[i]
            guard let s = table.slotIndex(part.name) else {
                guard table.depth < TOML.maximumDepth else { throw depthError(at: part) }
                let child = TOMLTableNode(
                    origin: .implicit, depth: table.depth + 1, line: part.line, column: part.column)
                table.add(part, .table(child))
                table = child
                continue
            }
            let slot = table.slot(at: s)
            switch slot.item {
            case .table(let child):
                table = child
            case .tableArray(let array):
                // `[[a]]` then `[a.b]`: b goes into the last element of a.
                table = array.tables[array.tables.count - 1]
            case .value:
                throw error(
                    "key \"\(display(parts[...i]))\" is already a value (line \(slot.keyLine)), it cannot hold tables",
                    at: part)
            }
        }
        return table
    }

    /// Applies `[a.b.c]` and returns the table that the following key/value lines fill.
    static func defineTable(_ parts: [TOMLKeyPart], root: TOMLTableNode, header: TOMLKeyPart) throws(TOMLError)
        -> TOMLTableNode
    {
        let parent = try headerParent(parts, root: root)
        let last = parts[parts.count - 1]
        let name = display(parts[...])
        guard let s = parent.slotIndex(last.name) else {
            guard parent.depth < TOML.maximumDepth else { throw depthError(at: last) }
            let child = TOMLTableNode(
                origin: .header, depth: parent.depth + 1, line: header.line, column: header.column)
            parent.add(last, .table(child))
            return child
        }
        let slot = parent.slot(at: s)
        switch slot.item {
        case .table(let child):
            switch child.origin {
            case .implicit:
                child.origin = .header
                child.line = header.line
                child.column = header.column
                parent.moveKey(at: s, to: last)
                return child
            case .dotted:
                throw error("table [\(name)] is already defined by dotted keys (line \(slot.keyLine))", at: last)
            case .header, .root, .arrayElement, .inline:
                throw error("table [\(name)] is defined twice (first defined on line \(child.line))", at: last)
            }
        case .tableArray(let array):
            throw error(
                "\"\(name)\" is an array of tables (line \(array.line)); use [[\(name)]] to add an element", at: last)
        case .value:
            throw error("key \"\(name)\" is already a value (line \(slot.keyLine)), not a table", at: last)
        }
    }

    /// Applies `[[a.b.c]]`: appends a new table and returns it.
    static func appendTable(_ parts: [TOMLKeyPart], root: TOMLTableNode, header: TOMLKeyPart) throws(TOMLError)
        -> TOMLTableNode
    {
        let parent = try headerParent(parts, root: root)
        let last = parts[parts.count - 1]
        let name = display(parts[...])
        guard parent.depth < TOML.maximumDepth else { throw depthError(at: last) }
        let element = TOMLTableNode(
            origin: .arrayElement, depth: parent.depth + 1, line: header.line, column: header.column)
        guard let s = parent.slotIndex(last.name) else {
            let array = TOMLTableArrayNode(line: header.line, column: header.column)
            array.tables.append(element)
            parent.add(last, .tableArray(array))
            return element
        }
        let slot = parent.slot(at: s)
        switch slot.item {
        case .tableArray(let array):
            array.tables.append(element)
            return element
        case .table:
            throw error(
                "[[\(name)]] conflicts with table [\(name)] (line \(slot.keyLine)); a key cannot be both", at: last)
        case .value:
            throw error(
                "key \"\(name)\" is already a value (line \(slot.keyLine)), cannot append tables to it", at: last)
        }
    }

    /// Applies `a.b.c = value` inside `table`.
    static func insert(_ value: TOMLValue, at parts: [TOMLKeyPart], into table: TOMLTableNode) throws(TOMLError) {
        var table = table
        for i in 0..<(parts.count - 1) {
            let part = parts[i]
            guard let s = table.slotIndex(part.name) else {
                guard table.depth < TOML.maximumDepth else { throw depthError(at: part) }
                let child = TOMLTableNode(origin: .dotted, depth: table.depth + 1, line: part.line, column: part.column)
                table.add(part, .table(child))
                table = child
                continue
            }
            let slot = table.slot(at: s)
            let prefix = display(parts[...i])
            switch slot.item {
            case .table(let child) where child.origin == .dotted:
                table = child
            case .table:
                throw error(
                    "table \"\(prefix)\" is defined on line \(slot.keyLine); dotted keys cannot add to it", at: part)
            case .tableArray:
                throw error(
                    "key \"\(prefix)\" is an array of tables (line \(slot.keyLine)); dotted keys cannot add to it",
                    at: part)
            case .value:
                throw error("key \"\(prefix)\" is already a value (line \(slot.keyLine)), not a table", at: part)
            }
        }
        let last = parts[parts.count - 1]
        if let s = table.slotIndex(last.name) {
            throw error(
                "duplicate key \"\(display(parts[...]))\" (first defined on line \(table.slot(at: s).keyLine))",
                at: last)
        }
        table.add(last, .value(value))
    }
}
