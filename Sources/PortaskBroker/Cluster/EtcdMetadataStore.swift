import EtcdClient

/// A `MetadataStore` on etcd: every key lives under `root` (e.g. `/portask/`), sessions are etcd leases,
/// transactions are etcd transactions, watches are etcd watches (reconnected and failed over by `EtcdClient`).
///
/// Thread-safe: stateless apart from the `Sendable` client.
public final class EtcdMetadataStore: MetadataStore {
    public let client: EtcdClient
    /// The prefix under which every key is stored; keys passed in and handed out are relative to it.
    public let root: String

    public init(client: EtcdClient, root: String) {
        self.client = client
        self.root = root
    }

    public func get(_ key: String) async throws -> MetadataEntry? {
        try await mapped {
            let result = try await client.range(bytes(key))
            return result.kvs.first.flatMap(entry)
        }
    }

    public func read(prefix: String) async throws -> MetadataSnapshot {
        try await mapped {
            let result = try await client.range(prefix: bytes(prefix))
            return MetadataSnapshot(revision: result.header.revision, entries: result.kvs.compactMap(entry))
        }
    }

    public func commit(
        if conditions: [MetadataCondition], then operations: [MetadataOperation], otherwise: [MetadataOperation]
    ) async throws -> MetadataCommitResult {
        try await mapped {
            let result = try await client.txn(
                compare: conditions.map(compare), success: operations.map(operation), failure: otherwise.map(operation))
            return MetadataCommitResult(succeeded: result.succeeded, revision: result.header.revision)
        }
    }

    public func openSession(ttlSeconds: Int64) async throws -> MetadataSession {
        try await mapped {
            let lease = try await client.grantLease(ttlSeconds: ttlSeconds)
            return MetadataSession(id: lease.id, ttlSeconds: lease.ttlSeconds)
        }
    }

    public func renewSession(_ id: Int64) async throws {
        try await mapped { _ = try await client.keepAliveOnce(lease: id) }
    }

    public func closeSession(_ id: Int64) async throws {
        try await mapped { try await client.revokeLease(id) }
    }

    public func watch(
        prefix: String, fromRevision: Int64, onChanges: @Sendable ([MetadataChange], Int64) async throws -> Void
    ) async throws {
        try await mapped {
            try await client.watch(prefix: bytes(prefix), startRevision: fromRevision) { batch in
                let changes = batch.events.compactMap { event -> MetadataChange? in
                    guard let entry = entry(event.kv) else { return nil }
                    return MetadataChange(kind: event.kind == .put ? .put : .delete, entry: entry)
                }
                guard !changes.isEmpty else { return }
                try await onChanges(changes, batch.header.revision)
            }
        }
    }

    // MARK: Mapping

    private func bytes(_ key: String) -> [UInt8] { Array((root + key).utf8) }

    /// The entry for a stored key, nil when it is outside the root or not UTF-8 (written by someone else).
    private func entry(_ kv: EtcdKeyValue) -> MetadataEntry? {
        let full = String(decoding: kv.key, as: UTF8.self)
        guard Array(full.utf8) == kv.key, full.hasPrefix(root) else { return nil }
        return MetadataEntry(
            key: String(full.dropFirst(root.count)), value: kv.value, createRevision: kv.createRevision,
            modRevision: kv.modRevision, version: kv.version, session: kv.lease)
    }

    private func compare(_ condition: MetadataCondition) -> EtcdCompare {
        let target: EtcdCompare.Target
        switch condition.target {
        case .version(let value): target = .version(value)
        case .createRevision(let value): target = .createRevision(value)
        case .modRevision(let value): target = .modRevision(value)
        case .value(let value): target = .value(value)
        }
        let result: EtcdCompare.Result
        switch condition.comparison {
        case .equal: result = .equal
        case .notEqual: result = .notEqual
        case .less: result = .less
        case .greater: result = .greater
        }
        return EtcdCompare(key: bytes(condition.key), target, result)
    }

    private func operation(_ operation: MetadataOperation) -> EtcdOperation {
        switch operation {
        case .put(let key, let value, let session): return .put(key: bytes(key), value: value, lease: session)
        case .delete(let key): return .delete(key: bytes(key))
        case .deletePrefix(let prefix):
            let start = bytes(prefix)
            return .delete(key: start, rangeEnd: EtcdKeyRange.prefixEnd(of: start))
        }
    }

    /// Runs `body`, turning `EtcdError`s into `BrokerError`s with the metadata codes.
    private func mapped<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let error as EtcdError {
            switch error.code {
            case .compacted:
                throw BrokerError(.metadataCompacted, error.message, context: error.context)
            case .leaseNotFound:
                throw BrokerError(.metadataSessionExpired, error.message, context: error.context)
            case .outcomeUnknown:
                throw BrokerError(.metadataOutcomeUnknown, error.message, context: error.context)
            case .invalidArgument:
                throw BrokerError(.invalidRequest, error.message, context: error.context)
            case .unavailable, .timeout, .server, .malformedResponse:
                throw BrokerError(.metadataUnavailable, error.description)
            }
        }
    }
}
