import EtcdClient
import Testing

@Suite(.enabled(if: EtcdTestCluster.binaryPath != nil, "etcd is not installed"))
struct EtcdLeaseTests {
    @Test func leaseNotRenewed_expiresAndDeletesItsKeys() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let lease = try await client.grantLease(ttlSeconds: 1)
        #expect(lease.ttlSeconds >= 1)
        try await client.put(b("/live/1"), value: b("x"), lease: lease.id)
        #expect(try await client.range(b("/live/1")).kvs.first?.lease == lease.id)

        let deadline = ContinuousClock.now.advanced(by: .seconds(15))
        while try await !client.range(b("/live/1")).kvs.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await client.range(b("/live/1")).kvs.isEmpty)
        let thrown = await #expect(throws: EtcdError.self) {
            try await client.keepAliveOnce(lease: lease.id)
        }
        #expect(thrown?.code == .leaseNotFound)
    }

    @Test func keptAlive_outlivesItsTTL_thenRevokeDeletesKeys() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        // A TTL of several keep-alive intervals: the suite runs tests in parallel with CPU-heavy ones, and a 1 s
        // TTL could lapse between two renewals on a loaded 2-core machine.
        let lease = try await client.grantLease(ttlSeconds: 3)
        try await client.put(b("/live/2"), value: b("x"), lease: lease.id)
        let keeper = Task { try await client.keepAlive(lease: lease.id, ttlSeconds: lease.ttlSeconds, interval: .milliseconds(250)) }
        try await Task.sleep(for: .seconds(Int64(lease.ttlSeconds) * 2))
        #expect(try await client.range(b("/live/2")).kvs.count == 1)
        keeper.cancel()
        try await keeper.value

        try await client.revokeLease(lease.id)
        #expect(try await client.range(b("/live/2")).kvs.isEmpty)
        let thrown2 = await #expect(throws: EtcdError.self) {
            try await client.put(b("/live/3"), value: b("x"), lease: lease.id)
        }
        #expect(thrown2?.code == .leaseNotFound)
    }

    @Test func keepAliveLoop_reportsALostLease() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let lease = try await client.grantLease(ttlSeconds: 5)
        let keeper = Task { try await client.keepAlive(lease: lease.id, ttlSeconds: lease.ttlSeconds, interval: .milliseconds(100)) }
        try await client.revokeLease(lease.id)
        let thrown3 = await #expect(throws: EtcdError.self) {
            try await keeper.value
        }
        #expect(thrown3?.code == .leaseNotFound)
    }
}
