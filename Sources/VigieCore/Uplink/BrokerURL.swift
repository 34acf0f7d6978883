/// `mqtt://host[:port]` or `mqtts://host[:port]` (TLS; default ports 1883 and 8883).
public struct BrokerURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var tls: Bool

    public init?(_ text: String) {
        let rest: Substring
        if text.hasPrefix("mqtts://") {
            tls = true
            rest = text.dropFirst(8)
        } else if text.hasPrefix("mqtt://") {
            tls = false
            rest = text.dropFirst(7)
        } else {
            return nil
        }
        var hostPart = rest
        var port = tls ? 8883 : 1883
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { return nil }
            let after = hostPart[hostPart.index(after: close)...]
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { return nil }
                port = value
            }
        } else {
            if let colon = hostPart.lastIndex(of: ":") {
                guard let value = Int(hostPart[hostPart.index(after: colon)...]) else { return nil }
                port = value
                hostPart = hostPart[..<colon]
            }
            host = String(hostPart)
        }
        guard !host.isEmpty, !host.contains("/"), (1...65535).contains(port) else { return nil }
        self.port = port
    }

    /// Whether the host is this machine: `localhost`, an IPv4 address in 127.0.0.0/8 or the IPv6 loopback
    /// `::1` (also written out in full, or IPv4-mapped). Only traffic to such a host never crosses a network,
    /// so only there is plain `mqtt://` harmless. A name other than `localhost` is never taken as loopback,
    /// whatever it resolves to.
    public var isLoopback: Bool {
        if host.lowercased() == "localhost" { return true }
        if let octets = Self.ipv4(Substring(host)) { return octets[0] == 127 }
        guard let groups = Self.ipv6(host) else { return false }
        if groups == [0, 0, 0, 0, 0, 0, 0, 1] { return true }
        // ::ffff:127.x.y.z, an IPv4 loopback address in IPv6 form.
        return groups[0..<5].allSatisfy { $0 == 0 } && groups[5] == 0xFFFF && groups[6] >> 8 == 127
    }

    /// The four octets of a dotted-quad IPv4 address, or nil.
    static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit), let value = UInt8(part) else {
                return nil
            }
            octets.append(value)
        }
        return octets
    }

    /// The eight 16-bit groups of an IPv6 address (with at most one `::`, and an optional dotted IPv4 tail),
    /// or nil.
    static func ipv6(_ text: String) -> [UInt16]? {
        guard text.contains(":"), !text.contains(":::") else { return nil }
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if index == fields.count - 1, field.contains("."), let octets = ipv4(field) {
                    result += [UInt16(octets[0]) << 8 | UInt16(octets[1]), UInt16(octets[2]) << 8 | UInt16(octets[3])]
                } else {
                    guard (1...4).contains(field.count), field.allSatisfy(\.isHexDigit),
                        let value = UInt16(field, radix: 16)
                    else { return nil }
                    result.append(value)
                }
            }
            return result
        }
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        if halves.count == 1 {
            guard let all = groups(halves[0]), all.count == 8 else { return nil }
            return all
        }
        guard let head = groups(halves[0]), let tail = groups(halves[1]), head.count + tail.count < 8 else {
            return nil
        }
        return head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    public var description: String { "\(tls ? "mqtts" : "mqtt")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
