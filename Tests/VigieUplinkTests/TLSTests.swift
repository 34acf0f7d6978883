import Foundation
import Testing
import VigieCore
import VigieUplink

/// Certificates made by the test with openssl: a CA, the broker's certificate for 127.0.0.1, a unit's
/// client certificate, and a second CA that signed nothing of ours.
struct TestCertificates {
    let folder: URL
    var path: (String) -> String { { folder.appendingPathComponent($0).path } }

    init() throws {
        folder = try temporaryFolder("tls")
        chmod(folder.path, 0o755)
        try Self.openssl(folder, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"])
        try Self.openssl(
            folder,
            ["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Vigie test CA", "-days", "2", "-out", "ca.crt"])
        try Self.openssl(folder, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "other-ca.key"])
        try Self.openssl(
            folder,
            [
                "req", "-x509", "-new", "-key", "other-ca.key", "-subj", "/CN=Somebody else", "-days", "2", "-out",
                "other-ca.crt",
            ])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
            to: folder.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
        for (name, subject, extensions) in [
            ("server", "/CN=localhost", ["-extfile", "server.ext"]), ("unit", "/CN=unit-tls", []),
        ] {
            try Self.openssl(folder, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "\(name).key"])
            try Self.openssl(folder, ["req", "-new", "-key", "\(name).key", "-subj", subject, "-out", "\(name).csr"])
            try Self.openssl(
                folder,
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-days", "2",
                    "-out", "\(name).crt",
                ] + extensions)
        }
        // mosquitto runs as its own user: it must read its key.
        for file in ["server.key", "server.crt", "ca.crt"] { chmod(path(file), 0o644) }
    }

    static func openssl(_ folder: URL, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw POSIXError(.EIO) }
    }
}

@Suite("Uplink over TLS", .serialized)
struct TLSTests {
    static func tlsBroker(_ certificates: TestCertificates) throws -> Broker {
        let port = try freePort()
        let broker = try Broker(
            extraConfiguration: """
                listener \(port) 127.0.0.1
                cafile \(certificates.path("ca.crt"))
                certfile \(certificates.path("server.crt"))
                keyfile \(certificates.path("server.key"))
                require_certificate true
                """, port: port)
        try broker.start()
        return broker
    }

    static func client(_ broker: Broker, ca: String, certificates: TestCertificates, withCertificate: Bool = true)
        throws -> TestClient
    {
        var options = MQTTClient.Options(
            clientID: "unit-tls", brokers: [BrokerURL("mqtts://127.0.0.1:\(broker.port)")!])
        options.caFile = certificates.path(ca)
        if withCertificate {
            options.certFile = certificates.path("unit.crt")
            options.keyFile = certificates.path("unit.key")
        }
        options.backoff = Backoff(initial: 0.2, maximum: 1, jitter: 0.1)
        return try TestClient(options)
    }

    @Test func clientCertificateConnects() async throws {
        let certificates = try TestCertificates()
        let broker = try Self.tlsBroker(certificates)
        defer { broker.stop() }
        let unit = try Self.client(broker, ca: "ca.crt", certificates: certificates)
        defer { unit.stop() }
        let connected = await waitFor(timeout: 15) { await unit.inbox.connections > 0 }
        let failures = await unit.inbox.failures
        #expect(connected, "\(failures)")
        try unit.client.publish(topic: "vigie/v1/unit-tls/status", payload: Array("{}".utf8), qos: 1)
    }

    @Test func wrongCAIsRefusedWithAClearError() async throws {
        let certificates = try TestCertificates()
        let broker = try Self.tlsBroker(certificates)
        defer { broker.stop() }
        let unit = try Self.client(broker, ca: "other-ca.crt", certificates: certificates)
        defer { unit.stop() }
        let failed = await waitFor(timeout: 15) { await !unit.inbox.failures.isEmpty }
        #expect(failed)
        let reason = await unit.inbox.failures.first ?? ""
        #expect(reason.contains("certificate verify failed"), "\(reason)")
        #expect(await unit.inbox.connections == 0)
    }

    @Test func missingClientCertificateIsRefused() async throws {
        let certificates = try TestCertificates()
        let broker = try Self.tlsBroker(certificates)
        defer { broker.stop() }
        let unit = try Self.client(broker, ca: "ca.crt", certificates: certificates, withCertificate: false)
        defer { unit.stop() }
        #expect(await waitFor(timeout: 15) { await !unit.inbox.failures.isEmpty })
        #expect(await unit.inbox.connections == 0)
    }

    @Test func missingCAFileIsAnError() throws {
        var options = MQTTClient.Options(clientID: "x", brokers: [BrokerURL("mqtts://127.0.0.1:1")!])
        options.caFile = "/nonexistent/ca.crt"
        #expect(throws: MQTTError.self) { try MQTTClient(options: options) }
    }
}
