import Testing
import VigieCore

@Suite("[uplink] protocol")
struct UplinkProtocolSettingTests {
    static func uplink(_ line: String) throws(ConfigurationError) -> UplinkSettings? {
        try Configuration.parse("[uplink]\nbrokers = [\"mqtt://127.0.0.1:1883\"]\n\(line)\n", file: "u.toml").uplink
    }

    @Test func defaultIsAuto() throws {
        #expect(try Self.uplink("")?.mqttProtocol == .auto)
    }

    @Test(arguments: [
        ("\"auto\"", MQTTProtocolChoice.auto), ("\"5\"", .only(.v5)), ("\"3.1.1\"", .only(.v311)),
    ])
    func spellings(value: String, expected: MQTTProtocolChoice) throws {
        #expect(try Self.uplink("protocol = \(value)")?.mqttProtocol == expected)
    }

    @Test(arguments: ["\"3.1\"", "\"v5\"", "\"5.0\"", "\"AUTO\"", "\"\"", "5", "true"])
    func otherValuesAreRefusedWithTheKey(value: String) {
        do {
            _ = try Self.uplink("protocol = \(value)")
            Issue.record("accepted protocol = \(value)")
        } catch {
            #expect(error.issues.count == 1, "\(error)")
            #expect(error.issues.first?.key == "uplink.protocol")
            #expect(error.issues.first?.line == 3)
        }
    }
}
