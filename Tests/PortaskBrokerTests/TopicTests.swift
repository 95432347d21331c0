import Testing
@testable import PortaskBroker

struct TopicTests {
    @Test func validate_acceptsKafkaNamesAndRejectsOthers() {
        #expect(Topic.validate(name: "orders.v1_EU-2") == nil)
        #expect(Topic.validate(name: "") != nil)
        #expect(Topic.validate(name: "..") != nil)
        #expect(Topic.validate(name: "a b") != nil)
        #expect(Topic.validate(name: String(repeating: "x", count: 250)) != nil)
    }

    @Test func create_rejectsDuplicatesAndBadPartitionCounts() throws {
        let manager = TopicManager()
        let topic = try manager.create(name: "t", partitions: 3)
        #expect(manager.topic(named: "t") == topic)
        #expect(manager.topic(id: topic.id) == topic)
        #expect(throws: TopicManager.CreateError.alreadyExists) { try manager.create(name: "t") }
        #expect(throws: TopicManager.CreateError.self) { try manager.create(name: "u", partitions: 0) }
    }
}
