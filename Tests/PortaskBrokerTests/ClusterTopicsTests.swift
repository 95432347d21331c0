import Foundation
import KafkaProtocol
import Logging
import Testing

@testable import PortaskBroker

/// The controller's topic changes, leadership reconciliation, producer-id blocks and the metadata image, against
/// the in-memory store (etcd's semantics).
struct ClusterTopicsTests {
    private struct Fixture {
        let store = InMemoryMetadataStore()
        var registry: ClusterRegistry { ClusterRegistry(store: store) }
        var topics: ClusterTopics { ClusterTopics(store: store) }

        /// Registers brokers `ids` (each under its own session) and makes the first one controller.
        func start(_ ids: [Int32]) async throws -> (leadership: ControllerLeadership, sessions: [Int32: Int64]) {
            var sessions: [Int32: Int64] = [:]
            var epochs: [Int32: Int64] = [:]
            for id in ids {
                let session = try await store.openSession(ttlSeconds: 600)
                sessions[id] = session.id
                epochs[id] = try await registry.register(
                    BrokerRegistration(nodeId: id, endpoints: [.init(listener: "PLAINTEXT", host: "h\(id)", port: 9092, securityProtocol: "PLAINTEXT")]),
                    session: session.id)
            }
            let first = ids[0]
            let leadership = try #require(
                try await registry.campaign(nodeId: first, brokerEpoch: epochs[first]!, session: sessions[first]!))
            return (leadership, sessions)
        }
    }

    @Test func decode_refusesATopicPastThePartitionBoundOrUnderAnotherKey() throws {
        func entry(_ key: String, partitions: Int) throws -> MetadataEntry {
            let state = ClusterPartitionState(replicas: [1], leader: 1, leaderEpoch: 0, isr: [1], partitionEpoch: 0)
            let topic = ClusterTopic(
                name: "big", topicId: String(repeating: "0", count: 32), configs: [:],
                partitions: Array(repeating: state, count: partitions))
            return MetadataEntry(
                key: key, value: try ClusterRegistry.encode(topic), createRevision: 1, modRevision: 1, version: 1, session: 0)
        }
        #expect(ClusterTopics.decode(try entry("topics/big", partitions: ClusterTopic.maxPartitions))?.partitions.count
            == ClusterTopic.maxPartitions)
        #expect(ClusterTopics.decode(try entry("topics/big", partitions: ClusterTopic.maxPartitions + 1)) == nil)
        #expect(ClusterTopics.decode(try entry("topics/other", partitions: 1)) == nil)
        #expect(ClusterTopics.decode(MetadataEntry(
            key: "topics/big", value: Array("{".utf8), createRevision: 1, modRevision: 1, version: 1, session: 0)) == nil)
    }

    @Test func assignment_isRoundRobinWithDistinctReplicas() {
        let replicas = ClusterTopics.assignReplicas(partitions: 6, replicationFactor: 2, brokers: [3, 1, 2], startIndex: 0)
        #expect(replicas == [[1, 2], [2, 3], [3, 1], [1, 2], [2, 3], [3, 1]])
        #expect(ClusterTopics.assignReplicas(partitions: 1, replicationFactor: 4, brokers: [1, 2, 3], startIndex: 0).isEmpty)
        let shifted = ClusterTopics.assignReplicas(partitions: 3, replicationFactor: 1, brokers: [1, 2, 3], startIndex: -4)
        #expect(Set(shifted.map { $0[0] }) == [1, 2, 3])
    }

    @Test func createTopic_spreadsLeadersAndRefusesTooManyReplicas() async throws {
        let fixture = Fixture()
        let (leadership, _) = try await fixture.start([1, 2, 3])
        let outcome = try await fixture.topics.createTopic(
            name: "orders", partitions: 6, replicationFactor: 1, configs: ["cleanup.policy": "compact"],
            liveBrokers: [1, 2, 3], leadership: leadership, startIndex: 0)
        #expect(outcome.isSuccess)
        let stored = try #require(try await fixture.topics.topics()["orders"]?.topic)
        #expect(stored.partitions.map(\.leader) == [1, 2, 3, 1, 2, 3])
        #expect(stored.partitions.allSatisfy { $0.leaderEpoch == 0 && $0.isr == $0.replicas })
        #expect(stored.configs == ["cleanup.policy": "compact"])
        #expect(stored.topicIdBytes?.count == 16)

        let tooMany = try await fixture.topics.createTopic(
            name: "wide", partitions: 1, replicationFactor: 4, configs: [:], liveBrokers: [1, 2, 3], leadership: leadership)
        #expect(tooMany.code == .invalidReplicationFactor)
        let again = try await fixture.topics.createTopic(
            name: "orders", partitions: 1, replicationFactor: 1, configs: [:], liveBrokers: [1, 2, 3], leadership: leadership)
        #expect(again.code == .topicAlreadyExists)
        let none = try await fixture.topics.createTopic(
            name: "empty", partitions: 0, replicationFactor: 1, configs: [:], liveBrokers: [1], leadership: leadership)
        #expect(none.code == .invalidPartitions)
    }

    @Test func racingCreatesOfOneTopic_exactlyOneWins() async throws {
        let fixture = Fixture()
        let (leadership, _) = try await fixture.start([1, 2])
        let topics = fixture.topics
        let outcomes = await withTaskGroup(of: KafkaErrorCodeBox.self) { group in
            for attempt in 0..<8 {
                group.addTask {
                    let outcome = try? await topics.createTopic(
                        name: "t", partitions: Int32(attempt + 1), replicationFactor: 1, configs: [:], liveBrokers: [1, 2],
                        leadership: leadership)
                    return KafkaErrorCodeBox(code: outcome?.code)
                }
            }
            return await group.reduce(into: []) { $0.append($1.code) }
        }
        #expect(outcomes.filter { $0 == .noError }.count == 1)
        #expect(outcomes.filter { $0 == .topicAlreadyExists }.count == 7)
    }

    @Test func deposedController_cannotWrite() async throws {
        let fixture = Fixture()
        let (leadership, sessions) = try await fixture.start([1, 2])
        #expect(try await fixture.topics.createTopic(
            name: "t", partitions: 2, replicationFactor: 1, configs: [:], liveBrokers: [1, 2], leadership: leadership).isSuccess)
        // Broker 1's session ends; broker 2 takes the seat. Broker 1 still believes it leads.
        try fixture.store.expireSession(sessions[1]!)
        let live = try await fixture.registry.liveBrokers().brokers
        let successor = try #require(
            try await fixture.registry.campaign(nodeId: 2, brokerEpoch: live[0].brokerEpoch, session: sessions[2]!))
        #expect(successor.nodeId == 2)

        #expect(try await fixture.topics.createTopic(
            name: "u", partitions: 1, replicationFactor: 1, configs: [:], liveBrokers: [2], leadership: leadership).code == .notController)
        #expect(try await fixture.topics.deleteTopic(name: "t", leadership: leadership).code == .notController)
        #expect(try await fixture.topics.createPartitions(
            name: "t", totalCount: 3, liveBrokers: [2], leadership: leadership).code == .notController)
        #expect(try await fixture.topics.topics().keys.sorted() == ["t"])
        #expect(try await fixture.topics.createPartitions(
            name: "t", totalCount: 3, liveBrokers: [2], leadership: successor).isSuccess)
        #expect(try await fixture.topics.topics()["t"]?.topic.partitions.count == 3)
        #expect(try await fixture.topics.deleteTopic(name: "t", leadership: successor).isSuccess)
        #expect(try await fixture.topics.deleteTopic(name: "t", leadership: successor).code == .unknownTopicOrPartition)
    }

    @Test func createPartitionsAndConfigs_keepExistingPartitions() async throws {
        let fixture = Fixture()
        let (leadership, _) = try await fixture.start([1, 2, 3])
        _ = try await fixture.topics.createTopic(
            name: "t", partitions: 2, replicationFactor: 2, configs: [:], liveBrokers: [1, 2, 3], leadership: leadership,
            startIndex: 0)
        let before = try #require(try await fixture.topics.topics()["t"]?.topic)
        #expect(try await fixture.topics.createPartitions(name: "t", totalCount: 2, liveBrokers: [1, 2, 3], leadership: leadership).code == .invalidPartitions)
        #expect(try await fixture.topics.createPartitions(name: "t", totalCount: 5, liveBrokers: [1, 2, 3], leadership: leadership).isSuccess)
        #expect(try await fixture.topics.setConfigs(name: "t", configs: ["retention.ms": "1000"], leadership: leadership).isSuccess)
        let after = try #require(try await fixture.topics.topics()["t"]?.topic)
        #expect(Array(after.partitions.prefix(2)) == before.partitions)
        #expect(after.partitions.count == 5)
        #expect(after.partitions.allSatisfy { $0.replicas.count == 2 && Set($0.replicas).count == 2 })
        #expect(after.topicId == before.topicId)
        #expect(after.configs == ["retention.ms": "1000"])
        #expect(try await fixture.topics.setConfigs(name: "nope", configs: [:], leadership: leadership).code == .unknownTopicOrPartition)
    }

    @Test func reconciler_takesPartitionsOfflineAndBringsThemBack() async throws {
        let fixture = Fixture()
        let (leadership, sessions) = try await fixture.start([1, 2, 3])
        _ = try await fixture.topics.createTopic(
            name: "t", partitions: 6, replicationFactor: 1, configs: [:], liveBrokers: [1, 2, 3], leadership: leadership,
            startIndex: 0)
        let reconciler = PartitionLeadershipReconciler(topics: fixture.topics)
        var image = MetadataImage(snapshot: try await fixture.store.read(prefix: ""))
        #expect(try await reconciler.reconcile(image, leadership: leadership) == 0)

        try fixture.store.expireSession(sessions[3]!)
        image = MetadataImage(snapshot: try await fixture.store.read(prefix: ""))
        #expect(try await reconciler.reconcile(image, leadership: leadership) == 1)
        let offline = try #require(try await fixture.topics.topics()["t"]?.topic)
        #expect(offline.partitions.map(\.leader) == [1, 2, -1, 1, 2, -1])
        #expect(offline.partitions.map(\.leaderEpoch) == [0, 0, 1, 0, 0, 1])
        #expect(offline.partitions[2].isr == [3])

        // A stale image (read before the change) writes nothing.
        #expect(try await reconciler.reconcile(image, leadership: leadership) == 0)

        let session = try await fixture.store.openSession(ttlSeconds: 600)
        _ = try await fixture.registry.register(
            BrokerRegistration(nodeId: 3, endpoints: [.init(listener: "PLAINTEXT", host: "h3", port: 9092, securityProtocol: "PLAINTEXT")]),
            session: session.id)
        image = MetadataImage(snapshot: try await fixture.store.read(prefix: ""))
        #expect(try await reconciler.reconcile(image, leadership: leadership) == 1)
        let back = try #require(try await fixture.topics.topics()["t"]?.topic)
        #expect(back.partitions.map(\.leader) == [1, 2, 3, 1, 2, 3])
        #expect(back.partitions.map(\.leaderEpoch) == [0, 0, 2, 0, 0, 2])
        #expect(back.partitions.map(\.partitionEpoch) == [0, 0, 2, 0, 0, 2])
    }

    @Test func producerIdBlocks_neverOverlap() async throws {
        let store = InMemoryMetadataStore()
        let blocks = ProducerIdBlocks(store: store)
        let ranges = try await withThrowingTaskGroup(of: ClosedRange<Int64>.self) { group in
            for _ in 0..<6 { group.addTask { try await blocks.allocate(size: 100) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(ranges.sorted { $0.lowerBound < $1.lowerBound }.map(\.lowerBound) == [0, 100, 200, 300, 400, 500])
        #expect(ranges.allSatisfy { $0.count == 100 })
        _ = try await store.commit(
            if: [], then: [.put(key: ProducerIdBlocks.key, value: Array(#"{"nextBlockStart":9223372036854775800}"#.utf8))])
        let exhausted = await #expect(throws: BrokerError.self) { try await blocks.allocate(size: 100) }
        #expect(exhausted?.code == .metadataUnavailable)
    }

    @Test func imageFollower_tracksChangesAndReadsAgainAfterFallingBehindCompaction() async throws {
        let fixture = Fixture()
        let (leadership, sessions) = try await fixture.start([1, 2])
        let follower = MetadataImageFollower(store: fixture.store, retryDelay: .milliseconds(10), logger: Logger(label: "test"))
        // The follower stalls on the image with only topic "a" while the test moves on and compacts the history it
        // has not read yet: it must read the store again.
        follower.onChange { image in
            if image.topics["a"] != nil, image.topics["b"] == nil { Thread.sleep(forTimeInterval: 0.3) }
        }
        let task = Task { await follower.run() }
        defer { task.cancel() }
        _ = try await fixture.topics.createTopic(
            name: "a", partitions: 2, replicationFactor: 1, configs: [:], liveBrokers: [1, 2], leadership: leadership)
        var image = await follower.waitFor(revision: fixture.store.revision)
        #expect(image.topics["a"]?.partitions.count == 2)
        #expect(image.liveBrokerIds == [1, 2])
        #expect(image.controller == leadership)
        #expect(image.partition("a", 1) != nil && image.partition("a", 2) == nil && image.partition("a", -1) == nil)

        try fixture.store.expireSession(sessions[2]!)
        _ = try await fixture.topics.deleteTopic(name: "a", leadership: leadership)
        _ = try await fixture.topics.createTopic(
            name: "b", partitions: 1, replicationFactor: 1, configs: [:], liveBrokers: [1], leadership: leadership)
        fixture.store.compact(through: fixture.store.revision)
        _ = try await fixture.topics.createTopic(
            name: "c", partitions: 1, replicationFactor: 1, configs: [:], liveBrokers: [1], leadership: leadership)
        image = await follower.waitFor(revision: fixture.store.revision)
        #expect(image.topics.keys.sorted() == ["b", "c"])
        #expect(image.liveBrokerIds == [1])
        #expect(image.revision == fixture.store.revision)
    }
}

/// An optional error code that crosses task boundaries.
private struct KafkaErrorCodeBox: Sendable {
    var code: KafkaErrorCode?
}
