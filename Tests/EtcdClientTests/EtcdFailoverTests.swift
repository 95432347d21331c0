import EtcdClient
import Testing

@Suite(.enabled(if: EtcdTestCluster.binaryPath != nil, "etcd is not installed"))
struct EtcdFailoverTests {
    @Test func threeMembers_oneKilled_requestsAndWatchesMoveToTheOthers() async throws {
        let cluster = try await EtcdTestCluster(size: 3)
        let client = cluster.client()
        let start = try await client.put(b("/f/0"), value: b("0"))

        let seen = Collected<EtcdWatchEvent>()
        let watcher = Task {
            try await client.watch(prefix: b("/f/"), startRevision: start.revision) { batch in await seen.add(batch.events) }
        }
        defer { watcher.cancel() }
        #expect(await seen.wait { $0.count >= 1 }.count == 1)

        // The client prefers the first endpoint: killing it forces both requests and the watch elsewhere.
        cluster.kill9(0)
        try await eventually { try await client.put(b("/f/1"), value: b("1")) }
        let lease = try await eventually { try await client.grantLease(ttlSeconds: 5) }
        try await client.keepAliveOnce(lease: lease.id)
        let txn = try await client.txn(
            compare: [EtcdCompare(key: b("/f/1"), .version(1))], success: [.put(key: b("/f/2"), value: b("2"), lease: lease.id)])
        #expect(txn.succeeded)
        #expect(try await client.range(prefix: b("/f/")).kvs.count == 3)

        let events = await seen.wait { $0.count >= 3 }
        #expect(events.map(\.kv.key) == [b("/f/0"), b("/f/1"), b("/f/2")])
        watcher.cancel()
        try await watcher.value
    }
}
