import Foundation
import KafkaProtocol
import Testing
@testable import PortaskBroker

/// Client quotas: Kafka's validation and filters, durability, the matching order and the throttle arithmetic.
struct ClientQuotaTests {
    private func entry(_ entity: [(String, String?)], _ ops: [(String, Double?)]) -> AlterClientQuotasRequest.EntryData {
        .init(
            entity: entity.map { .init(entityType: $0.0, entityName: $0.1) },
            ops: ops.map { .init(key: $0.0, value: $0.1 ?? 0, remove: $0.1 == nil) })
    }

    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quotas-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func alter_validatesAsKafka_andSurvivesARestart() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ClientQuotaStore(dataDirectory: directory)
        let response = try store.alter(AlterClientQuotasRequest(entries: [
            entry([("client-id", "app")], [("producer_byte_rate", 1024), ("request_percentage", 12.5)]),
            entry([("user", nil), ("client-id", nil)], [("consumer_byte_rate", 2048)]),
            entry([], [("producer_byte_rate", 1)]),
            entry([("user", "u"), ("user", "v")], [("producer_byte_rate", 1)]),
            entry([("group", "g")], [("producer_byte_rate", 1)]),
            entry([("client-id", "")], [("producer_byte_rate", 1)]),
            entry([("ip", "10.0.0.1"), ("user", "u")], [("connection_creation_rate", 1)]),
            entry([("client-id", "b")], [("producer_byte_rate", 1.5)]),
            entry([("client-id", "d")], [("producer_byte_rate", 0)]),
            entry([("client-id", "c")], [("connection_creation_rate", 5)]),
            entry([("ip", "10.0.0.1")], [("connection_creation_rate", 5)]),
        ]))
        try expectEncodes(response, versions: 0...1)
        #expect(response.entries.map(\.errorCode) == [0, 0, 42, 42, 42, 42, 42, 42, 42, 42, 0])
        #expect(response.entries[7].errorMessage == "producer_byte_rate cannot be a fractional value.")
        #expect(response.entries[8].errorMessage == "Quota producer_byte_rate must be greater than 0")
        #expect(response.entries[9].errorMessage == "Invalid configuration key connection_creation_rate")

        let reopened = try ClientQuotaStore(dataDirectory: directory)
        #expect(reopened.all.count == 3)
        #expect(reopened.all[ClientQuotaEntity(components: ["client-id": "app"])] == ["producer_byte_rate": 1024, "request_percentage": 12.5])

        // Removing the last key removes the entity; validate-only changes nothing.
        _ = try reopened.alter(AlterClientQuotasRequest(entries: [
            entry([("client-id", "app")], [("producer_byte_rate", nil), ("request_percentage", nil)]),
        ], validateOnly: true))
        #expect(reopened.all.count == 3)
        _ = try reopened.alter(AlterClientQuotasRequest(entries: [
            entry([("client-id", "app")], [("producer_byte_rate", nil), ("request_percentage", nil)]),
        ]))
        #expect(try ClientQuotaStore(dataDirectory: directory).all.count == 2)
    }

    @Test func describe_filtersAsKafka() throws {
        let store = try ClientQuotaStore(dataDirectory: nil)
        _ = try store.alter(AlterClientQuotasRequest(entries: [
            entry([("user", "alice")], [("producer_byte_rate", 1)]),
            entry([("user", "alice"), ("client-id", "app")], [("producer_byte_rate", 2)]),
            entry([("user", nil)], [("producer_byte_rate", 3)]),
            entry([("client-id", "app")], [("consumer_byte_rate", 4)]),
        ]))
        func values(_ components: [(String, Int8, String?)], strict: Bool = false) -> [Double] {
            let response = store.describe(DescribeClientQuotasRequest(
                components: components.map { .init(entityType: $0.0, matchType: $0.1, match: $0.2) }, strict: strict))
            return (response.entries ?? []).flatMap { $0.values.map(\.value) }.sorted()
        }
        #expect(values([]) == [1, 2, 3, 4])
        #expect(values([], strict: true) == [])
        #expect(values([("user", 0, "alice")]) == [1, 2])
        #expect(values([("user", 0, "alice")], strict: true) == [1])
        #expect(values([("user", 1, nil)]) == [3])
        #expect(values([("user", 2, nil)]) == [1, 2, 3])
        #expect(values([("client-id", 0, "app"), ("user", 2, nil)]) == [2])
        let bad = store.describe(DescribeClientQuotasRequest(components: [.init(entityType: "user", matchType: 0, match: nil)]))
        #expect(bad.errorCode == KafkaErrorCode.invalidRequest.rawValue && bad.entries == nil)
        let unknown = store.describe(DescribeClientQuotasRequest(components: [.init(entityType: "topic", matchType: 2)]))
        #expect(unknown.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        try expectEncodes(store.describe(DescribeClientQuotasRequest()), versions: 0...1)
    }

    @Test func enforcer_matchesInKafkasOrder_andThrottlesAboveTheRate() throws {
        let enforcer = ClientQuotaEnforcer(samples: 2, windowSeconds: 1)
        #expect(enforcer.record(.produce, clientId: "x", bytes: 1 << 30, nowMs: 0) == 0)
        enforcer.update([
            ClientQuotaEntity(components: ["client-id": nil]): ["producer_byte_rate": 1000],
            ClientQuotaEntity(components: ["client-id": "fast"]): ["producer_byte_rate": 1_000_000],
            ClientQuotaEntity(components: ["user": "ANONYMOUS", "client-id": "slow"]): ["producer_byte_rate": 100],
        ])
        #expect(enforcer.isActive(.produce) && !enforcer.isActive(.fetch))
        // 1000 B/s measured over at least one window (1010 ms here): 1000 bytes pass; 3000 more make the rate
        // 3960 B/s, (3960 - 1000) / 1000 × 1010 ms of throttle.
        #expect(enforcer.record(.produce, clientId: "other", bytes: 1000, nowMs: 10) == 0)
        #expect(enforcer.record(.produce, clientId: "other", bytes: 3000, nowMs: 20) == 2990)
        #expect(enforcer.record(.produce, clientId: "fast", bytes: 4000, nowMs: 20) == 0)
        // The user-and-client-id entity comes before the client-id default.
        #expect(enforcer.record(.produce, clientId: "slow", bytes: 200, nowMs: 20) == 1000)
        #expect(enforcer.maximumInWindow(.produce, clientId: "slow") == 100)
    }

    @Test func enforcer_throttlesRequestTimeOverItsPercentage_perUser_atMostOneWindow() throws {
        let enforcer = ClientQuotaEnforcer(samples: 2, windowSeconds: 1)
        #expect(!enforcer.isActive(.request))
        enforcer.update([ClientQuotaEntity(components: ["user": "alice"]): ["request_percentage": 10]])
        #expect(enforcer.isActive(.request) && !enforcer.isActive(.produce))
        // 10 % of a thread: 50 ms of handling in the first window is 5 %; 100 ms more make 150 ms over 1010 ms,
        // 14.85 %, throttled (14.85 - 10) / 10 × 1010 ms.
        #expect(enforcer.recordRequestTime(user: "alice", clientId: "c", nanoseconds: 50_000_000, nowMs: 10) == 0)
        #expect(enforcer.recordRequestTime(user: "alice", clientId: "c", nanoseconds: 100_000_000, nowMs: 20) == 490)
        // Kafka caps a request-time throttle at one quota window.
        #expect(enforcer.recordRequestTime(user: "alice", clientId: "c", nanoseconds: 10_000_000_000, nowMs: 30) == 1000)
        // Another user has no quota.
        #expect(enforcer.recordRequestTime(user: "ANONYMOUS", clientId: "c", nanoseconds: 10_000_000_000, nowMs: 30) == 0)
    }

    @Test func throttled_raisesTheResponsesThrottleTime() {
        let response = MetadataResponse(throttleTimeMs: 5).throttled(atLeast: 300)
        #expect(response.throttleTimeMs == 300)
        #expect(MetadataResponse(throttleTimeMs: 500).throttled(atLeast: 300).throttleTimeMs == 500)
    }
}
