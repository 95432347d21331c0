import EtcdClient
import Testing

@Suite(.enabled(if: EtcdTestCluster.binaryPath != nil, "etcd is not installed"))
struct EtcdWatchTests {
    @Test func watchFromRevision_deliversHistoryThenLiveChangesInOrder() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let start = try await client.put(b("/w/a"), value: b("1"))
        try await client.put(b("/w/b"), value: b("2"))
        try await client.put(b("/other"), value: b("ignored"))

        let seen = Collected<EtcdWatchEvent>()
        let watcher = Task {
            try await client.watch(prefix: b("/w/"), startRevision: start.revision) { batch in await seen.add(batch.events) }
        }
        defer { watcher.cancel() }
        try await client.delete(b("/w/a"))
        try await client.put(b("/w/b"), value: b("3"))

        let events = await seen.wait { $0.count >= 4 }
        #expect(events.map(\.kind) == [.put, .put, .delete, .put])
        #expect(events.map(\.kv.key) == [b("/w/a"), b("/w/b"), b("/w/a"), b("/w/b")])
        #expect(events.last?.kv.value == b("3"))
        let revisions = events.map(\.kv.modRevision)
        #expect(revisions == revisions.sorted() && Set(revisions).count == revisions.count)
        watcher.cancel()
        try await watcher.value
    }

    @Test func memberRestart_watchResumesWithoutGapOrRepeat() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let seen = Collected<EtcdWatchEvent>()
        let start = try await client.put(b("/r/0"), value: b("0"))
        let watcher = Task {
            try await client.watch(prefix: b("/r/"), startRevision: start.revision) { batch in await seen.add(batch.events) }
        }
        defer { watcher.cancel() }
        try await client.put(b("/r/1"), value: b("1"))
        #expect(await seen.wait { $0.count >= 2 }.count == 2)

        cluster.kill9(0)
        try await Task.sleep(for: .milliseconds(300))
        try cluster.start(0)
        try await cluster.waitUntilServing(0)
        try await eventually { try await client.put(b("/r/2"), value: b("2")) }
        try await client.put(b("/r/3"), value: b("3"))

        let events = await seen.wait { $0.count >= 4 }
        #expect(events.map(\.kv.key) == [b("/r/0"), b("/r/1"), b("/r/2"), b("/r/3")])
        watcher.cancel()
        try await watcher.value
    }

    @Test func watchFromCompactedRevision_throwsCompacted() async throws {
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let first = try await client.put(b("/c/k"), value: b("1"))
        try await client.put(b("/c/k"), value: b("2"))
        let third = try await client.put(b("/c/k"), value: b("3"))
        try await client.compact(revision: third.revision)
        let thrown = await #expect(throws: EtcdError.self) {
            try await client.watch(prefix: b("/c/"), startRevision: first.revision) { _ in }
        }
        #expect(thrown?.code == .compacted)
        #expect(thrown?.compactRevision == third.revision)
    }

    @Test func callbackError_endsTheWatchWithThatError() async throws {
        struct Stop: Error {}
        let cluster = try await EtcdTestCluster()
        let client = cluster.client()
        let start = try await client.put(b("/s/k"), value: b("1"))
        await #expect(throws: Stop.self) {
            try await client.watch(prefix: b("/s/"), startRevision: start.revision) { _ in throw Stop() }
        }
    }
}
