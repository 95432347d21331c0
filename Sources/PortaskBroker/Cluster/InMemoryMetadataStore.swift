import NIOConcurrencyHelpers

/// A `MetadataStore` held in memory with etcd's semantics: one revision per changing transaction, create and mod
/// revisions and versions per key, sessions whose keys vanish when they end, and a bounded history of changes
/// for watches (older revisions count as compacted).
///
/// For tests and single-process use. Thread-safe: all state sits behind one lock; watchers wait without
/// holding it. Sessions expire when an operation finds their deadline passed, or on `expireDueSessions()`,
/// or at once on `expireSession(_:)` (which tests use instead of waiting).
public final class InMemoryMetadataStore: MetadataStore {
    struct Session {
        var ttlSeconds: Int64
        var deadline: ContinuousClock.Instant
    }

    struct Waiter {
        var generation: UInt64
        var continuation: CheckedContinuation<Void, Never>
    }

    struct State {
        var revision: Int64 = 1
        var entries: [String: MetadataEntry] = [:]
        /// Changes in revision order; revisions ≤ `compactedThrough` are no longer kept.
        var history: [MetadataChange] = []
        var compactedThrough: Int64 = 0
        var sessions: [Int64: Session] = [:]
        var nextSessionID: Int64 = 1
        /// Bumped on every change, so a watcher can wait for "anything after what I saw".
        var generation: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterID: UInt64 = 0
    }

    let state = NIOLockedValueBox(State())
    /// Most changes kept for watches; older ones are compacted away.
    public let historyLimit: Int
    /// Smallest session TTL granted, as etcd raises short TTLs to its minimum.
    public let minimumSessionTTLSeconds: Int64

    public init(historyLimit: Int = 10_000, minimumSessionTTLSeconds: Int64 = 1) {
        self.historyLimit = max(1, historyLimit)
        self.minimumSessionTTLSeconds = max(1, minimumSessionTTLSeconds)
    }

    /// The store's current revision.
    public var revision: Int64 { state.withLockedValue { $0.revision } }

    public func get(_ key: String) async throws -> MetadataEntry? {
        locked { $0.entries[key] }
    }

    public func read(prefix: String) async throws -> MetadataSnapshot {
        locked { state in
            let entries = state.entries.values.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }
            return MetadataSnapshot(revision: state.revision, entries: entries)
        }
    }

    public func commit(
        if conditions: [MetadataCondition], then operations: [MetadataOperation], otherwise: [MetadataOperation]
    ) async throws -> MetadataCommitResult {
        try locked { state in
            let succeeded = conditions.allSatisfy { $0.holds(for: state.entries[$0.key]) }
            let chosen = succeeded ? operations : otherwise
            for case .put(_, _, let session) in chosen where session != 0 && state.sessions[session] == nil {
                throw BrokerError(.metadataSessionExpired, "session \(session) does not exist")
            }
            apply(chosen, to: &state)
            return MetadataCommitResult(succeeded: succeeded, revision: state.revision)
        }
    }

    public func openSession(ttlSeconds: Int64) async throws -> MetadataSession {
        guard ttlSeconds > 0 else { throw BrokerError(.invalidRequest, "session TTL must be positive") }
        let ttl = max(ttlSeconds, minimumSessionTTLSeconds)
        return locked { state in
            let id = state.nextSessionID
            state.nextSessionID &+= 1
            state.sessions[id] = Session(ttlSeconds: ttl, deadline: .now.advanced(by: .seconds(ttl)))
            return MetadataSession(id: id, ttlSeconds: ttl)
        }
    }

    public func renewSession(_ id: Int64) async throws {
        let renewed = locked { state in
            guard var session = state.sessions[id] else { return false }
            session.deadline = .now.advanced(by: .seconds(session.ttlSeconds))
            state.sessions[id] = session
            return true
        }
        guard renewed else { throw BrokerError(.metadataSessionExpired, "session \(id) has expired") }
    }

    public func closeSession(_ id: Int64) async throws {
        try end(session: id)
    }

    /// Ends the session as if its TTL had passed (its keys are deleted at one new revision).
    public func expireSession(_ id: Int64) throws {
        try end(session: id)
    }

    /// Ends every session whose deadline has passed.
    public func expireDueSessions() {
        locked { _ in }
    }

    /// Forgets the history up to and including `revision`: watches from there on fail with `.metadataCompacted`.
    public func compact(through revision: Int64) {
        locked { state in
            let through = min(revision, state.revision)
            guard through > state.compactedThrough else { return }
            state.compactedThrough = through
            state.history.removeAll { $0.entry.modRevision <= through }
        }
    }

    private func end(session id: Int64) throws {
        try locked { state in
            guard state.sessions.removeValue(forKey: id) != nil else {
                throw BrokerError(.metadataSessionExpired, "session \(id) does not exist")
            }
            deleteKeys(ofSessions: [id], in: &state)
        }
    }

    /// Runs `body` under the lock after ending the sessions past their deadline, then wakes (outside the lock)
    /// the watchers that wait for a change, when anything changed.
    @discardableResult
    func locked<Value>(_ body: (inout State) throws -> Value) rethrows -> Value {
        let (value, waiters) = try state.withLockedValue { state in
            let generation = state.generation
            expireDue(&state)
            let value = try body(&state)
            return (value, state.generation != generation ? takeWaiters(&state) : [])
        }
        for waiter in waiters { waiter.resume() }
        return value
    }

    /// Ends the sessions past their deadline, deleting their keys.
    private func expireDue(_ state: inout State) {
        let now = ContinuousClock.now
        let due = state.sessions.filter { $0.value.deadline <= now }.map(\.key)
        guard !due.isEmpty else { return }
        for id in due { state.sessions.removeValue(forKey: id) }
        deleteKeys(ofSessions: Set(due), in: &state)
    }

    private func deleteKeys(ofSessions ids: Set<Int64>, in state: inout State) {
        let keys = state.entries.values.filter { ids.contains($0.session) }.map(\.key).sorted()
        apply(keys.map { .delete(key: $0) }, to: &state)
    }

    /// Applies the operations at the next revision; returns whether anything changed (then the revision moved).
    @discardableResult
    private func apply(_ operations: [MetadataOperation], to state: inout State) -> Bool {
        let revision = state.revision &+ 1
        var changes: [MetadataChange] = []
        for operation in operations {
            switch operation {
            case .put(let key, let value, let session):
                let previous = state.entries[key]
                let entry = MetadataEntry(
                    key: key, value: value, createRevision: previous?.createRevision ?? revision, modRevision: revision,
                    version: (previous?.version ?? 0) &+ 1, session: session)
                state.entries[key] = entry
                changes.append(MetadataChange(kind: .put, entry: entry))
            case .delete(let key):
                if let removed = state.entries.removeValue(forKey: key) {
                    changes.append(MetadataChange(kind: .delete, entry: Self.tombstone(removed, at: revision)))
                }
            case .deletePrefix(let prefix):
                for key in state.entries.keys.filter({ $0.hasPrefix(prefix) }).sorted() {
                    if let removed = state.entries.removeValue(forKey: key) {
                        changes.append(MetadataChange(kind: .delete, entry: Self.tombstone(removed, at: revision)))
                    }
                }
            }
        }
        guard !changes.isEmpty else { return false }
        state.revision = revision
        state.history.append(contentsOf: changes)
        if state.history.count > historyLimit {
            let dropped = state.history.count - historyLimit
            state.compactedThrough = max(state.compactedThrough, state.history[dropped - 1].entry.modRevision)
            state.history.removeFirst(dropped)
        }
        state.generation &+= 1
        return true
    }

    private func takeWaiters(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let waiters = state.waiters.values.map(\.continuation)
        state.waiters.removeAll()
        return waiters
    }

    static func tombstone(_ entry: MetadataEntry, at revision: Int64) -> MetadataEntry {
        MetadataEntry(key: entry.key, value: [], createRevision: 0, modRevision: revision, version: 0, session: 0)
    }
}
