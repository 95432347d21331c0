import EtcdClient
import Testing

@Suite(.enabled(if: EtcdTestCluster.binaryPath != nil, "etcd is not installed"))
struct EtcdClientKVTests {
    @Test func putRangeDelete_roundTripKeysAndRevisions() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let first = try await client.put(b("/t/a"), value: b("1"))
        try await client.put(b("/t/a"), value: b("2"))
        try await client.put(b("/t/b"), value: [0, 255, 10])
        try await client.put(b("/u/c"), value: b("x"))

        let one = try await client.range(b("/t/a"))
        #expect(one.kvs.count == 1)
        #expect(one.kvs[0].value == b("2"))
        #expect(one.kvs[0].version == 2)
        #expect(one.kvs[0].createRevision == first.revision)
        #expect(one.kvs[0].modRevision == first.revision + 1)

        let prefixed = try await client.range(prefix: b("/t/"))
        #expect(prefixed.kvs.map(\.key) == [b("/t/a"), b("/t/b")])
        #expect(prefixed.kvs[1].value == [0, 255, 10])
        #expect(prefixed.header.revision == first.revision + 3)

        let old = try await client.range(b("/t/a"), revision: first.revision)
        #expect(old.kvs.first?.value == b("1"))

        let deleted = try await client.delete(b("/t/"), rangeEnd: EtcdKeyRange.prefixEnd(of: b("/t/")))
        #expect(deleted == 2)
        #expect(try await client.range(prefix: b("/t/")).kvs.isEmpty)
        #expect(try await client.range(b("/u/c")).kvs.count == 1)
    }

    @Test func txn_comparesOnVersionCreateAndModRevision() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let key = b("/fence/k")

        // Create only when absent: the second creator loses and reads the winner in its failure branch.
        let created = try await client.txn(
            compare: [EtcdCompare(key: key, .version(0))], success: [.put(key: key, value: b("first"))])
        #expect(created.succeeded)
        let lost = try await client.txn(
            compare: [EtcdCompare(key: key, .version(0))], success: [.put(key: key, value: b("second"))],
            failure: [.range(key: key)])
        #expect(!lost.succeeded)
        guard case .range(let kvs) = lost.results.first else {
            Issue.record("expected a range result")
            return
        }
        #expect(kvs.first?.value == b("first"))
        let createRevision = kvs[0].createRevision
        let modRevision = kvs[0].modRevision

        // A write fenced on the mod revision succeeds once; a stale writer is refused.
        let update = try await client.txn(
            compare: [EtcdCompare(key: key, .modRevision(modRevision))], success: [.put(key: key, value: b("v2"))])
        #expect(update.succeeded)
        let stale = try await client.txn(
            compare: [EtcdCompare(key: key, .modRevision(modRevision))], success: [.put(key: key, value: b("v3"))])
        #expect(!stale.succeeded)

        // The create revision stays until the key is deleted and created again.
        let sameIncarnation = try await client.txn(
            compare: [EtcdCompare(key: key, .createRevision(createRevision)), EtcdCompare(key: key, .version(1), .greater)],
            success: [.delete(key: key)])
        #expect(sameIncarnation.succeeded)
        guard case .delete(let deleted) = sameIncarnation.results.first else {
            Issue.record("expected a delete result")
            return
        }
        #expect(deleted == 1)
        try await client.put(key, value: b("reborn"))
        let oldIncarnation = try await client.txn(
            compare: [EtcdCompare(key: key, .createRevision(createRevision))], success: [.delete(key: key)])
        #expect(!oldIncarnation.succeeded)
        #expect(try await client.range(key).kvs.first?.value == b("reborn"))

        let byValue = try await client.txn(
            compare: [EtcdCompare(key: key, .value(b("reborn")))], success: [.put(key: key, value: b("next"))])
        #expect(byValue.succeeded)
        #expect(byValue.header.revision > created.header.revision)
    }

    @Test func compactedRevision_readFailsWithCompacted() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let first = try await client.put(b("k"), value: b("1"))
        let second = try await client.put(b("k"), value: b("2"))
        try await client.compact(revision: second.revision)
        let thrown = await #expect(throws: EtcdError.self) {
            _ = try await client.range(b("k"), revision: first.revision)
        }
        #expect(thrown?.code == .compacted)
    }

    @Test func unreachableEndpoint_failsOverToTheNext() async throws {
        let cluster = try await EtcdTestCluster()
        let dead = EtcdEndpoint(host: "127.0.0.1", port: try EtcdTestCluster.freePort())
        let client = cluster.client(endpoints: [dead] + cluster.endpoints)
        try await client.put(b("k"), value: b("v"))
        #expect(try await client.range(b("k")).kvs.first?.value == b("v"))

        let nowhere = cluster.client(endpoints: [dead])
        let thrown2 = await #expect(throws: EtcdError.self) {
            _ = try await nowhere.range(b("k"))
        }
        #expect(thrown2?.code == .unavailable)
    }

    @Test func endpointParsing_acceptsUrlsAndHostPorts() {
        #expect(EtcdEndpoint(parsing: "http://127.0.0.1:2379") == EtcdEndpoint(host: "127.0.0.1", port: 2379))
        #expect(EtcdEndpoint(parsing: "etcd-1:2379/") == EtcdEndpoint(host: "etcd-1", port: 2379))
        #expect(EtcdEndpoint(parsing: "[::1]:2379") == EtcdEndpoint(host: "::1", port: 2379))
        #expect(EtcdEndpoint(parsing: "localhost") == nil)
        #expect(EtcdEndpoint(parsing: "h:0") == nil)
        #expect(EtcdEndpoint(parsing: "h:99999") == nil)
        #expect(EtcdEndpoint.parseList("a:1, b:2")?.count == 2)
        #expect(EtcdEndpoint.parseList("a:1,nope") == nil)
        #expect(EtcdKeyRange.prefixEnd(of: b("/a/")) == b("/a0"))
        #expect(EtcdKeyRange.prefixEnd(of: [0x61, 0xff]) == [0x62])
        #expect(EtcdKeyRange.prefixEnd(of: [0xff]) == [0])
    }
}
