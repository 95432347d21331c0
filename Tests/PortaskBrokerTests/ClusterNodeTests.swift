import Foundation
import KafkaProtocol
import Logging
import Testing

@testable import PortaskBroker

/// Brokers of one cluster over the in-memory metadata store: topic changes made on one broker reach every
/// broker's logs (each holding only its partitions), routing answers Kafka's errors for partitions led
/// elsewhere, and a broker that leaves takes its partitions offline until it returns.
struct ClusterNodeTests {
    private final class Member: Sendable {
        let topics: TopicManager
        let node: ClusterNode
        let task: Task<Void, any Error>

        init(id: Int32, store: InMemoryMetadataStore, clusterId: String?) throws {
            var config = try TopicTests.temporaryConfig([
                "node.id": "\(id)", "metadata.etcd.endpoints": "http://127.0.0.1:1", "offsets.topic.num.partitions": "3",
            ])
            config.clusterId = clusterId
            topics = try TopicManager(config: config, logger: Logger(label: "test"))
            let settings = ClusterMetadataConfig(endpoints: [], sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100)
            let node = ClusterNode(config: settings, store: store, topics: topics, logger: Logger(label: "test"))
            self.node = node
            let registration = BrokerRegistration(
                nodeId: id, endpoints: [.init(listener: "PLAINTEXT", host: "127.0.0.1", port: 9000 + id, securityProtocol: "PLAINTEXT")])
            task = Task { try await node.run(registration: registration) }
        }

        func stop() async {
            task.cancel()
            _ = await task.result
        }

        func remove() {
            try? topics.close()
            try? FileManager.default.removeItem(atPath: topics.config.dataDirectory)
        }
    }

    /// Runs `body` on a thread that may block (topic changes wait for the store), not on the cooperative pool.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<400 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func topicsSpreadOverBrokersAndRoutingRefusesOthersPartitions() async throws {
        let store = InMemoryMetadataStore()
        let one = try Member(id: 1, store: store, clusterId: "cluster-a")
        let two = try Member(id: 2, store: store, clusterId: "cluster-a")
        defer { one.remove(); two.remove() }
        #expect(await eventually { one.node.routing.image.brokers.count == 2 && two.node.routing.image.brokers.count == 2 })

        let created = try await blocking { try one.topics.create(name: "orders", partitions: 4) }
        #expect(created.partitionCount == 4)
        #expect(await eventually { two.topics.topic(named: "orders")?.id == created.id })
        let state = try #require(one.node.routing.image.topics["orders"])
        for (index, partition) in state.partitions.enumerated() {
            let leader = partition.leader
            let (owner, other) = leader == 1 ? (one, two) : (two, one)
            #expect(owner.topics.partition("orders", Int32(index)) != nil)
            #expect(other.topics.partition("orders", Int32(index)) == nil)
            #expect(owner.node.routing.refusal("orders", Int32(index)) == nil)
            let refusal = try #require(other.node.routing.refusal("orders", Int32(index)))
            #expect(refusal.code == .notLeaderOrFollower && refusal.leaderId == leader)
            #expect(owner.node.routing.refusal("orders", Int32(index), currentLeaderEpoch: 5)?.code == .unknownLeaderEpoch)
        }
        #expect(Set(state.partitions.map(\.leader)) == [1, 2])
        #expect(one.node.routing.refusal("missing", 0)?.code == .unknownTopicOrPartition)

        // Another broker adds partitions and changes configs; both apply them.
        try await blocking { try two.topics.addPartitions(name: "orders", count: 6) }
        #expect(await eventually { one.topics.topic(named: "orders")?.partitionCount == 6 })
        _ = try await blocking { try two.topics.setConfigs(name: "orders", configs: ["retention.ms": "1000"]) }
        #expect(await eventually { one.topics.topic(named: "orders")?.configs == ["retention.ms": "1000"] })
        #expect(throws: TopicManager.CreateError.alreadyExists) { try one.topics.create(name: "orders", partitions: 1) }

        // A broker that leaves takes its partitions offline; the other keeps leading its own.
        await two.stop()
        #expect(await eventually {
            one.node.routing.image.topics["orders"]?.partitions.allSatisfy { $0.leader == 1 || $0.leader == -1 } == true
        })
        let offline = try #require(one.node.routing.image.topics["orders"]?.partitions.firstIndex { $0.leader == -1 })
        #expect(one.node.routing.refusal("orders", Int32(offline))?.code == .notLeaderOrFollower)
        #expect(one.node.routing.leader("orders", Int32(offline)) == nil)

        // Deleting on the remaining broker removes its logs.
        try await blocking { try one.topics.delete(name: "orders") }
        #expect(one.topics.topic(named: "orders") == nil)
        await one.stop()
    }

    @Test func aReturningBrokerLeadsItsPartitionsAgainAtANewEpoch() async throws {
        let store = InMemoryMetadataStore()
        let one = try Member(id: 1, store: store, clusterId: "cluster-b")
        var two = try Member(id: 2, store: store, clusterId: "cluster-b")
        defer { one.remove(); two.remove() }
        #expect(await eventually { one.node.routing.image.brokers.count == 2 })
        _ = try await blocking { try one.topics.create(name: "events", partitions: 2) }
        let owned = try #require(one.node.routing.image.topics["events"]?.partitions.firstIndex { $0.leader == 2 })
        await two.stop()
        #expect(await eventually { one.node.routing.image.topics["events"]?.partitions[owned].leader == -1 })
        two.remove()
        two = try Member(id: 2, store: store, clusterId: "cluster-b")
        // Same data directory path is not reused here: the returning broker gets its partition (a new, empty log).
        #expect(await eventually { two.node.routing.image.topics["events"]?.partitions[owned].leader == 2 })
        let state = try #require(two.node.routing.image.topics["events"]?.partitions[owned])
        #expect(state.leaderEpoch == 2)
        #expect(await eventually { two.topics.partition("events", Int32(owned))?.leaderEpoch == 2 })
        #expect(two.node.routing.refusal("events", Int32(owned), currentLeaderEpoch: 0)?.code == .fencedLeaderEpoch)
        await one.stop()
        await two.stop()
    }
}
