/// One compare of a transaction (etcdserverpb.Compare): `target` of `key` compared to a value with `result`.
/// Comparing `.version(0)` with `.equal` asserts that the key does not exist. Value type, `Sendable`.
public struct EtcdCompare: Sendable {
    public enum Target: Sendable {
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value([UInt8])
        case lease(Int64)
    }

    public enum Result: String, Sendable {
        case equal = "EQUAL"
        case greater = "GREATER"
        case less = "LESS"
        case notEqual = "NOT_EQUAL"
    }

    public var key: [UInt8]
    public var target: Target
    public var result: Result

    public init(key: [UInt8], _ target: Target, _ result: Result = .equal) {
        self.key = key
        self.target = target
        self.result = result
    }
}

/// One operation of a transaction, or of a plain request.
public enum EtcdOperation: Sendable {
    /// Read `[key, rangeEnd)`; `rangeEnd == nil` reads the single key.
    case range(key: [UInt8], rangeEnd: [UInt8]? = nil)
    /// Store `value` under `key`, bound to `lease` (0 = none).
    case put(key: [UInt8], value: [UInt8], lease: Int64 = 0)
    /// Delete `[key, rangeEnd)`; `rangeEnd == nil` deletes the single key.
    case delete(key: [UInt8], rangeEnd: [UInt8]? = nil)
}

/// The result of one transaction operation, in the order of the operations that ran.
public enum EtcdOperationResult: Sendable {
    case range([EtcdKeyValue])
    case put
    case delete(deleted: Int64)
}

/// The answer to a transaction: whether every compare held (so `success` ran, else `failure` ran), the results
/// of the branch that ran, and the header whose revision is the store's revision after the transaction.
public struct EtcdTxnResult: Sendable {
    public var header: EtcdResponseHeader
    public var succeeded: Bool
    public var results: [EtcdOperationResult]
}

/// A lease as granted: its id and the TTL the server chose (seconds).
public struct EtcdLease: Sendable, Hashable {
    public var id: Int64
    public var ttlSeconds: Int64
}

/// One change seen by a watch.
public struct EtcdWatchEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case put
        case delete
    }

    public var kind: Kind
    /// The key after the change; for a delete, the key with `modRevision` = the deletion's revision and no value.
    public var kv: EtcdKeyValue
}

/// A batch of events delivered by a watch, all at revisions ≤ `header.revision`.
public struct EtcdWatchBatch: Sendable {
    public var header: EtcdResponseHeader
    public var events: [EtcdWatchEvent]
}
