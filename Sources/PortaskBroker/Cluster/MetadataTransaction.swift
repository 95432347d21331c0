/// A condition of a metadata transaction: a property of one key compared with an operand, as etcd's compares.
/// A missing key has version, create and mod revision 0 and fails every value comparison. Value type.
public struct MetadataCondition: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value([UInt8])
    }

    public enum Comparison: Sendable, Hashable {
        case equal, notEqual, less, greater
    }

    public var key: String
    public var target: Target
    public var comparison: Comparison

    public init(key: String, _ target: Target, _ comparison: Comparison = .equal) {
        self.key = key
        self.target = target
        self.comparison = comparison
    }

    /// Holds when `key` does not exist.
    public static func absent(_ key: String) -> MetadataCondition { MetadataCondition(key: key, .version(0)) }

    /// Holds when `key` exists.
    public static func present(_ key: String) -> MetadataCondition {
        MetadataCondition(key: key, .version(0), .greater)
    }

    /// Evaluates the condition against `entry` (nil = the key is missing).
    func holds(for entry: MetadataEntry?) -> Bool {
        let actual: Int64
        let operand: Int64
        switch target {
        case .version(let value):
            actual = entry?.version ?? 0
            operand = value
        case .createRevision(let value):
            actual = entry?.createRevision ?? 0
            operand = value
        case .modRevision(let value):
            actual = entry?.modRevision ?? 0
            operand = value
        case .value(let value):
            guard let entry else { return false }
            switch comparison {
            case .equal: return entry.value == value
            case .notEqual: return entry.value != value
            case .less: return entry.value.lexicographicallyPrecedes(value)
            case .greater: return value.lexicographicallyPrecedes(entry.value)
            }
        }
        switch comparison {
        case .equal: return actual == operand
        case .notEqual: return actual != operand
        case .less: return actual < operand
        case .greater: return actual > operand
        }
    }
}

/// A change in a metadata transaction.
public enum MetadataOperation: Sendable, Hashable {
    /// Writes `value` under `key`, bound to `session` (0 = none; the session must exist).
    case put(key: String, value: [UInt8], session: Int64 = 0)
    /// Deletes `key` (nothing when it is missing).
    case delete(key: String)
    /// Deletes every key starting with `prefix`.
    case deletePrefix(String)
}

/// The outcome of a metadata transaction.
public struct MetadataCommitResult: Sendable, Hashable {
    /// Whether every condition held (and so the `then` operations ran, else the `otherwise` ones).
    public var succeeded: Bool
    /// The store's revision after the transaction (the transaction's own revision when it changed something).
    public var revision: Int64

    public init(succeeded: Bool, revision: Int64) {
        self.succeeded = succeeded
        self.revision = revision
    }
}
