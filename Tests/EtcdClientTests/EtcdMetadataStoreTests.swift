import EtcdClient
import Logging
import Testing

@testable import PortaskBroker

@Suite(.enabled(if: EtcdTestCluster.binaryPath != nil, "etcd is not installed"))
struct EtcdMetadataStoreTests {
    @Test func storeOnEtcd_keepsKeysUnderItsRootWithFencingSessionsAndWatches() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        try await client.put(b("/elsewhere/x"), value: b("not ours"))
        let store = EtcdMetadataStore(client: client, root: "/portask/c1/")

        let created = try await store.commit(if: [.absent("topics/t")], then: [.put(key: "topics/t", value: b("v1"))])
        #expect(created.succeeded)
        #expect(try await store.commit(if: [.absent("topics/t")], then: [.put(key: "topics/t", value: b("v2"))]).succeeded == false)
        #expect(try await client.range(b("/portask/c1/topics/t")).kvs.first?.value == b("v1"))

        let session = try await store.openSession(ttlSeconds: 5)
        _ = try await store.commit(if: [.absent("brokers/1")], then: [.put(key: "brokers/1", value: b("b1"), session: session.id)])
        let snapshot = try await store.read(prefix: "")
        #expect(snapshot.entries.map(\.key) == ["brokers/1", "topics/t"])
        #expect(snapshot.entries[0].session == session.id)
        #expect(snapshot.revision >= created.revision + 1)

        let seen = Collected<MetadataChange>()
        let watcher = Task {
            try await store.watch(prefix: "", fromRevision: snapshot.revision + 1) { changes, _ in await seen.add(changes) }
        }
        defer { watcher.cancel() }
        try await store.renewSession(session.id)
        try await store.closeSession(session.id)
        _ = try await store.commit(if: [], then: [.deletePrefix("topics/")])
        let changes = await seen.wait { $0.count >= 2 }
        #expect(changes.map(\.kind) == [.delete, .delete])
        #expect(changes.map(\.entry.key) == ["brokers/1", "topics/t"])
        #expect(try await client.range(b("/elsewhere/x")).kvs.count == 1)

        let thrown = await #expect(throws: BrokerError.self) {
            try await store.renewSession(session.id)
        }
        #expect(thrown?.code == .metadataSessionExpired)
        watcher.cancel()
        try await watcher.value
    }

    @Test func clusterMetadataOnEtcd_followsTopicsBrokersAndTheController() async throws {
        let cluster = try await EtcdTestCluster()
        let store = EtcdMetadataStore(client: cluster.client(), root: "/portask/c2/")
        let registry = ClusterRegistry(store: store)
        let session = try await store.openSession(ttlSeconds: 30)
        let epoch = try await registry.register(
            BrokerRegistration(nodeId: 1, endpoints: [.init(listener: "PLAINTEXT", host: "127.0.0.1", port: 9092, securityProtocol: "PLAINTEXT")]),
            session: session.id)
        let leadership = try #require(try await registry.campaign(nodeId: 1, brokerEpoch: epoch, session: session.id))
        let follower = MetadataImageFollower(store: store, retryDelay: .milliseconds(50), logger: Logger(label: "test"))
        let task = Task { await follower.run() }
        defer { task.cancel() }

        let topics = ClusterTopics(store: store)
        #expect(try await topics.createTopic(
            name: "t", partitions: 3, replicationFactor: 1, configs: [:], liveBrokers: [1], leadership: leadership).isSuccess)
        let blocks = ProducerIdBlocks(store: store)
        let first = try await blocks.allocate()
        let second = try await blocks.allocate()
        #expect(first == 0...999 && second == 1_000...1_999)
        let revision = try await store.read(prefix: "").revision
        let image = await follower.waitFor(revision: revision)
        #expect(image.liveBrokerIds == [1])
        #expect(image.controller == leadership)
        #expect(image.topics["t"]?.partitions.map(\.leader) == [1, 1, 1])

        // The broker's session ends: the reconciler (run by a controller that is not the lost broker in a real
        // cluster; here the same fence, still held) takes its partitions offline.
        try await store.closeSession(session.id)
        let gone = await follower.waitFor(revision: revision + 1)
        #expect(gone.brokers.isEmpty && gone.controller == nil)
        let written = try await PartitionLeadershipReconciler(topics: topics).reconcile(gone, leadership: leadership)
        #expect(written == 0)  // the controller key went with the session: a deposed controller writes nothing
    }
}
