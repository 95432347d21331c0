/// One key of the metadata store with its revisions. Value type, `Sendable`.
///
/// Revisions follow etcd's meaning: every committed change gets the store's next revision; `createRevision` is
/// the revision that created the key (kept until it is deleted), `modRevision` that of its last change, `version`
/// the number of changes since creation (a missing key has version 0), `session` the id of the session the key
/// is bound to (0 = none; the key vanishes when the session ends).
public struct MetadataEntry: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var session: Int64

    public init(key: String, value: [UInt8], createRevision: Int64, modRevision: Int64, version: Int64, session: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.session = session
    }
}

/// The keys under a prefix as of one revision of the store.
public struct MetadataSnapshot: Sendable {
    /// The store's revision the read was served at; watch from `revision + 1` to follow on without a gap.
    public var revision: Int64
    /// The keys, sorted by key.
    public var entries: [MetadataEntry]

    public init(revision: Int64, entries: [MetadataEntry]) {
        self.revision = revision
        self.entries = entries
    }
}

/// One change seen by a watch: the key as written (`put`) or as it was deleted (`delete`: empty value,
/// `modRevision` = the deletion's revision).
public struct MetadataChange: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case put
        case delete
    }

    public var kind: Kind
    public var entry: MetadataEntry

    public init(kind: Kind, entry: MetadataEntry) {
        self.kind = kind
        self.entry = entry
    }
}

/// A session (an etcd lease): keys bound to it vanish when it is closed or not renewed within `ttlSeconds`.
public struct MetadataSession: Sendable, Hashable {
    public var id: Int64
    public var ttlSeconds: Int64

    public init(id: Int64, ttlSeconds: Int64) {
        self.id = id
        self.ttlSeconds = ttlSeconds
    }
}
