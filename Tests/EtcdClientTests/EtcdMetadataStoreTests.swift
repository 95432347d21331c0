import EtcdClient
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
}
