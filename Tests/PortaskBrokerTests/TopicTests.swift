import Foundation
import Logging
import Testing
@testable import PortaskBroker

struct TopicTests {
    static func temporaryConfig(_ extra: [String: String] = [:]) throws -> BrokerConfig {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portask-\(UUID().uuidString)").path
        return try BrokerConfig(properties: ["log.dirs": directory].merging(extra) { $1 })
    }

    @Test func validate_acceptsKafkaNamesAndRejectsOthers() {
        #expect(Topic.validate(name: "orders.v1_EU-2") == nil)
        #expect(Topic.validate(name: "") != nil)
        #expect(Topic.validate(name: "..") != nil)
        #expect(Topic.validate(name: "a b") != nil)
        #expect(Topic.validate(name: String(repeating: "x", count: 250)) != nil)
    }

    @Test func create_rejectsDuplicatesBadCountsAndBadConfigs() throws {
        let config = try Self.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let manager = try TopicManager(config: config, logger: Logger(label: "test"))
        let topic = try manager.create(name: "t", partitions: 3)
        #expect(manager.topic(named: "t") == topic)
        #expect(manager.topic(id: topic.id) == topic)
        #expect(manager.partition("t", 2) != nil)
        #expect(manager.partition("t", 3) == nil)
        #expect(throws: TopicManager.CreateError.alreadyExists) { try manager.create(name: "t") }
        #expect(throws: TopicManager.CreateError.self) { try manager.create(name: "u", partitions: 0) }
        #expect(throws: TopicManager.CreateError.self) { try manager.create(name: "v", configs: ["retention.ms": "soon"]) }
        #expect(throws: TopicManager.CreateError.self) { try manager.create(name: "w", configs: ["no.such": "1"]) }
    }

    @Test func topics_surviveARestartWithTheirIdsAndConfigs() throws {
        let config = try Self.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let first = try TopicManager(config: config, logger: Logger(label: "test"))
        let created = try first.create(name: "kept", partitions: 2, configs: ["retention.ms": "1000"])
        try first.addPartitions(name: "kept", count: 3)
        try first.create(name: "gone")
        try first.delete(name: "gone")
        try first.close()
        let second = try TopicManager(config: config, logger: Logger(label: "test"))
        let reopened = try #require(second.topic(named: "kept"))
        #expect(reopened.id == created.id)
        #expect(reopened.partitionCount == 3)
        #expect(reopened.configs == ["retention.ms": "1000"])
        #expect(second.partition("kept", 2)?.config.retentionMs == 1000)
        #expect(second.topic(named: "gone") == nil)
    }
}
