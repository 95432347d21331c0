import NIOConcurrencyHelpers
import Testing

@testable import PortaskBroker

struct InMemoryMetadataStoreTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func commit_movesTheRevisionOncePerChangingTransaction() async throws {
        let store = InMemoryMetadataStore()
        let initial = store.revision
        let first = try await store.commit(if: [], then: [.put(key: "a", value: bytes("1")), .put(key: "b", value: bytes("2"))])
        #expect(first.succeeded && first.revision == initial + 1)
        let a = try #require(try await store.get("a"))
        #expect(a.createRevision == first.revision && a.modRevision == first.revision && a.version == 1)

        let second = try await store.commit(if: [], then: [.put(key: "a", value: bytes("3"))])
        let updated = try #require(try await store.get("a"))
        #expect(updated.createRevision == first.revision && updated.modRevision == second.revision && updated.version == 2)

        // Deleting what is missing changes nothing, so no new revision.
        let noop = try await store.commit(if: [], then: [.delete(key: "missing")])
        #expect(noop.revision == second.revision)

        let snapshot = try await store.read(prefix: "")
        #expect(snapshot.revision == second.revision)
        #expect(snapshot.entries.map(\.key) == ["a", "b"])
    }

    @Test func conditions_fenceOnVersionCreateAndModRevision() async throws {
        let store = InMemoryMetadataStore()
        let created = try await store.commit(if: [.absent("k")], then: [.put(key: "k", value: bytes("one"))])
        #expect(created.succeeded)
        let duplicate = try await store.commit(
            if: [.absent("k")], then: [.put(key: "k", value: bytes("two"))], otherwise: [.put(key: "lost", value: [])])
        #expect(!duplicate.succeeded)
        #expect(try await store.get("k")?.value == bytes("one"))
        #expect(try await store.get("lost") != nil)

        let entry = try #require(try await store.get("k"))
        let fenced = try await store.commit(
            if: [MetadataCondition(key: "k", .modRevision(entry.modRevision))], then: [.put(key: "k", value: bytes("v2"))])
        #expect(fenced.succeeded)
        let stale = try await store.commit(
            if: [MetadataCondition(key: "k", .modRevision(entry.modRevision))], then: [.put(key: "k", value: bytes("v3"))])
        #expect(!stale.succeeded)

        _ = try await store.commit(if: [], then: [.delete(key: "k")])
        _ = try await store.commit(if: [], then: [.put(key: "k", value: bytes("reborn"))])
        let oldIncarnation = try await store.commit(
            if: [MetadataCondition(key: "k", .createRevision(entry.createRevision))], then: [.delete(key: "k")])
        #expect(!oldIncarnation.succeeded)
        #expect(try await store.commit(if: [.present("k"), MetadataCondition(key: "k", .value(bytes("reborn")))], then: []).succeeded)
        #expect(!(try await store.commit(if: [MetadataCondition(key: "missing", .value([]))], then: [])).succeeded)
        #expect(try await store.commit(if: [MetadataCondition(key: "k", .version(0), .greater)], then: []).succeeded)
    }

    @Test func concurrentCreators_exactlyOneWins() async throws {
        let store = InMemoryMetadataStore()
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for broker in 0..<16 {
                group.addTask {
                    try await store.commit(if: [.absent("controller")], then: [.put(key: "controller", value: [UInt8(broker)])])
                        .succeeded
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await store.get("controller")?.version == 1)
    }

    @Test func endedSession_deletesItsKeysAtOneRevision() async throws {
        let store = InMemoryMetadataStore()
        let session = try await store.openSession(ttlSeconds: 30)
        let other = try await store.openSession(ttlSeconds: 30)
        _ = try await store.commit(
            if: [],
            then: [
                .put(key: "brokers/1", value: [], session: session.id), .put(key: "brokers/1/x", value: [], session: session.id),
                .put(key: "brokers/2", value: [], session: other.id), .put(key: "topics/t", value: []),
            ])
        let before = store.revision
        try store.expireSession(session.id)
        #expect(store.revision == before + 1)
        #expect(try await store.read(prefix: "").entries.map(\.key) == ["brokers/2", "topics/t"])

        await #expect(throws: BrokerError.self) { try await store.renewSession(session.id) }
        await #expect(throws: BrokerError.self) {
            try await store.commit(if: [], then: [.put(key: "brokers/1", value: [], session: session.id)])
        }
        try await store.renewSession(other.id)
        try await store.closeSession(other.id)
        #expect(try await store.get("brokers/2") == nil)
    }

    @Test func sessionPastItsDeadline_expiresOnTheNextOperation() async throws {
        let store = InMemoryMetadataStore(minimumSessionTTLSeconds: 1)
        let session = try await store.openSession(ttlSeconds: 1)
        _ = try await store.commit(if: [], then: [.put(key: "b", value: [], session: session.id)])
        try await Task.sleep(for: .milliseconds(1_200))
        #expect(try await store.get("b") == nil)
    }

    @Test func watch_deliversChangesFromARevisionInOrder() async throws {
        let store = InMemoryMetadataStore()
        let start = try await store.commit(if: [], then: [.put(key: "t/a", value: bytes("1"))])
        _ = try await store.commit(if: [], then: [.put(key: "x", value: bytes("ignored"))])
        let seen = NIOLockedValueBox<[MetadataChange]>([])
        let watcher = Task {
            try await store.watch(prefix: "t/", fromRevision: start.revision) { changes, _ in
                seen.withLockedValue { $0.append(contentsOf: changes) }
            }
        }
        _ = try await store.commit(if: [], then: [.put(key: "t/b", value: bytes("2")), .delete(key: "t/a")])
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while seen.withLockedValue({ $0.count }) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        watcher.cancel()
        try await watcher.value
        let changes = seen.withLockedValue { $0 }
        #expect(changes.map(\.entry.key) == ["t/a", "t/b", "t/a"])
        #expect(changes.map(\.kind) == [.put, .put, .delete])
        #expect(changes[1].entry.modRevision == changes[2].entry.modRevision)
    }

    @Test func watch_fromACompactedRevision_throwsCompacted() async throws {
        let store = InMemoryMetadataStore(historyLimit: 2)
        let first = try await store.commit(if: [], then: [.put(key: "k", value: [1])])
        for value in 2...4 { _ = try await store.commit(if: [], then: [.put(key: "k", value: [UInt8(value)])]) }
        let thrown = await #expect(throws: BrokerError.self) {
            try await store.watch(prefix: "", fromRevision: first.revision) { _, _ in }
        }
        #expect(thrown?.code == .metadataCompacted)
        store.compact(through: store.revision)
        await #expect(throws: BrokerError.self) {
            try await store.watch(prefix: "", fromRevision: store.revision) { _, _ in }
        }
    }

    @Test func watch_cancelledWhileWaiting_returns() async throws {
        let store = InMemoryMetadataStore()
        let watcher = Task { try await store.watch(prefix: "", fromRevision: 0) { _, _ in } }
        try await Task.sleep(for: .milliseconds(50))
        watcher.cancel()
        try await watcher.value
    }
}
