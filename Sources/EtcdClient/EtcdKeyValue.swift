/// One stored key as etcd reports it (mvccpb.KeyValue). Value type, `Sendable`.
///
/// `createRevision` is the revision of the put that created the key (unchanged until it is deleted),
/// `modRevision` that of its last change, `version` the number of changes since creation (0 = absent),
/// `lease` the id of the lease the key is bound to (0 = none).
public struct EtcdKeyValue: Sendable, Hashable {
    public var key: [UInt8]
    public var value: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var lease: Int64

    public init(key: [UInt8], value: [UInt8], createRevision: Int64, modRevision: Int64, version: Int64, lease: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}

/// The header of every etcd answer: the store's revision when it was served, and who served it.
public struct EtcdResponseHeader: Sendable, Hashable {
    public var clusterID: UInt64
    public var memberID: UInt64
    public var revision: Int64
    public var raftTerm: UInt64

    public init(clusterID: UInt64 = 0, memberID: UInt64 = 0, revision: Int64 = 0, raftTerm: UInt64 = 0) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.revision = revision
        self.raftTerm = raftTerm
    }
}

/// The answer to a range read.
public struct EtcdRangeResult: Sendable {
    public var header: EtcdResponseHeader
    public var kvs: [EtcdKeyValue]
    /// Number of keys in the range (may exceed `kvs.count` when a limit applied).
    public var count: Int64
    /// Whether more keys exist beyond the limit.
    public var more: Bool
}

/// Helpers for etcd's half-open key ranges `[key, rangeEnd)`.
public enum EtcdKeyRange {
    /// The range end that selects every key starting with `prefix` (etcd's `GetPrefixRangeEnd`):
    /// the prefix with its last byte below 0xff incremented and what follows dropped; `[0]` (= to the end of the
    /// key space) when every byte is 0xff or the prefix is empty.
    public static func prefixEnd(of prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }
}
