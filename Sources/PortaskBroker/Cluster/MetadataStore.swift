/// The cluster's metadata store as the broker sees it: keys with revisions, conditional transactions, sessions
/// that bind keys to a live owner, and ordered watches from a revision. Implemented on etcd
/// (`EtcdMetadataStore`) and in memory (`InMemoryMetadataStore`, for tests); both follow etcd's semantics.
///
/// Keys are UTF-8 paths relative to the store's root; values are opaque bytes. Every implementation is
/// thread-safe. Safety rests on the conditions of transactions (fencing by version or revision), never on
/// sessions or clocks: sessions only detect failure. Errors are `BrokerError`s with the `metadata...` codes.
public protocol MetadataStore: Sendable {
    /// Reads `key`; nil when it is missing.
    func get(_ key: String) async throws -> MetadataEntry?

    /// Reads every key starting with `prefix`, sorted by key, at one revision.
    func read(prefix: String) async throws -> MetadataSnapshot

    /// Atomically runs `then` when every condition holds, else `otherwise`.
    func commit(
        if conditions: [MetadataCondition], then operations: [MetadataOperation], otherwise: [MetadataOperation]
    ) async throws -> MetadataCommitResult

    /// Opens a session that expires unless renewed within `ttlSeconds` (the store may raise it to its minimum).
    func openSession(ttlSeconds: Int64) async throws -> MetadataSession

    /// Renews the session; throws `.metadataSessionExpired` when it has already ended.
    func renewSession(_ id: Int64) async throws

    /// Ends the session now; its keys are deleted.
    func closeSession(_ id: Int64) async throws

    /// Calls `onChanges` with every change to keys under `prefix` from `fromRevision` on, in revision order,
    /// each once, with the store revision the batch was read at; returns when the task is cancelled. Throws
    /// `.metadataCompacted` when `fromRevision` is no longer kept (read again, then watch from its revision + 1).
    func watch(
        prefix: String, fromRevision: Int64, onChanges: @Sendable ([MetadataChange], Int64) async throws -> Void
    ) async throws
}

extension MetadataStore {
    /// `commit(if:then:otherwise:)` with nothing to do when a condition fails.
    public func commit(if conditions: [MetadataCondition], then operations: [MetadataOperation]) async throws
        -> MetadataCommitResult
    {
        try await commit(if: conditions, then: operations, otherwise: [])
    }
}
