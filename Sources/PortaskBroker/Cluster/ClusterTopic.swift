/// A topic as the cluster metadata keeps it (`topics/<name>`, JSON): its id, its configuration overrides and the
/// state of every partition. One key holds the whole topic so that creating it, adding partitions or moving
/// leaders is one small conditional write (etcd bounds a transaction to 128 operations, not a value's layout);
/// `maxPartitions` keeps the value far below etcd's 1.5 MiB request limit. `Sendable` value.
public struct ClusterTopic: Sendable, Hashable, Codable {
    /// The most partitions a topic may have in cluster mode.
    public static let maxPartitions = 10_000

    public var name: String
    /// The topic id, 32 lowercase hex digits (Kafka's 16-byte UUID).
    public var topicId: String
    public var configs: [String: String]
    /// Partition states, indexed by partition number.
    public var partitions: [ClusterPartitionState]

    public init(name: String, topicId: String, configs: [String: String], partitions: [ClusterPartitionState]) {
        self.name = name
        self.topicId = topicId
        self.configs = configs
        self.partitions = partitions
    }

    /// The topic id as Kafka's 16 bytes; nil when the stored id is malformed.
    public var topicIdBytes: [UInt8]? {
        let digits = Array(topicId.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var index = 0
        while index < 32 {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// 32 hex digits for 16 bytes.
    public static func hexId(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// One partition's replication state, as Kafka's `PartitionRecord`: replicas, the leader (-1 = none: offline),
/// the leader epoch (raised at every leader change), the in-sync replicas, and the partition epoch (raised at
/// every change of this state). `Sendable` value.
public struct ClusterPartitionState: Sendable, Hashable, Codable {
    public static let noLeader: Int32 = -1

    public var replicas: [Int32]
    public var leader: Int32
    public var leaderEpoch: Int32
    public var isr: [Int32]
    public var partitionEpoch: Int32

    public init(replicas: [Int32], leader: Int32, leaderEpoch: Int32, isr: [Int32], partitionEpoch: Int32) {
        self.replicas = replicas
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.isr = isr
        self.partitionEpoch = partitionEpoch
    }

    /// The state after electing `leader` (or none): the leader epoch and partition epoch move on, saturating.
    func withLeader(_ leader: Int32) -> ClusterPartitionState {
        var next = self
        next.leader = leader
        next.leaderEpoch = leaderEpoch == .max ? .max : leaderEpoch + 1
        next.partitionEpoch = partitionEpoch == .max ? .max : partitionEpoch + 1
        if leader != Self.noLeader, !next.isr.contains(leader) { next.isr = [leader] }
        return next
    }
}
