import Foundation

/// What one broker knows of the cluster metadata at one revision: the cluster id, the live brokers, the
/// controller and every topic with its partitions. Built from a read of the whole prefix, then moved forward by
/// the changes of a watch, in revision order. Entries it cannot decode are ignored (a newer writer's record).
/// `Sendable` value: handlers read a copy.
public struct MetadataImage: Sendable {
    public private(set) var revision: Int64 = 0
    public private(set) var clusterId: String?
    public private(set) var brokers: [Int32: RegisteredBroker] = [:]
    public private(set) var controller: ControllerLeadership?
    public private(set) var topics: [String: ClusterTopic] = [:]
    /// The mod revision of each topic's key, for conditional updates.
    public private(set) var topicRevisions: [String: Int64] = [:]

    public init() {}

    /// The image of `snapshot` (a read of the store's whole root).
    public init(snapshot: MetadataSnapshot) {
        for entry in snapshot.entries { apply(.put, entry) }
        revision = snapshot.revision
    }

    /// Applies a watch's batch of changes read at `revision`.
    public mutating func apply(_ changes: [MetadataChange], revision: Int64) {
        for change in changes { apply(change.kind, change.entry) }
        self.revision = max(self.revision, revision)
    }

    /// The live brokers' node ids, ascending.
    public var liveBrokerIds: [Int32] { brokers.keys.sorted() }

    /// The state of `partition` of `topic`; nil when either is unknown.
    public func partition(_ topic: String, _ partition: Int32) -> ClusterPartitionState? {
        guard let partitions = topics[topic]?.partitions, partition >= 0, Int(partition) < partitions.count else { return nil }
        return partitions[Int(partition)]
    }

    private mutating func apply(_ kind: MetadataChange.Kind, _ entry: MetadataEntry) {
        let key = entry.key
        if key == ClusterRegistry.clusterIdKey {
            clusterId = kind == .put ? String(decoding: entry.value, as: UTF8.self) : nil
        } else if key == ClusterRegistry.controllerKey {
            controller = kind == .put ? ClusterRegistry.leadership(entry) : nil
        } else if key.hasPrefix(ClusterRegistry.brokersPrefix) {
            guard let nodeId = Int32(key.dropFirst(ClusterRegistry.brokersPrefix.count)) else { return }
            brokers[nodeId] = kind == .put ? ClusterRegistry.registeredBroker(entry) : nil
        } else if key.hasPrefix(ClusterTopics.topicsPrefix) {
            let name = String(key.dropFirst(ClusterTopics.topicsPrefix.count))
            if kind == .put, let topic = ClusterTopics.decode(entry) {
                topics[name] = topic
                topicRevisions[name] = entry.modRevision
            } else {
                topics[name] = nil
                topicRevisions[name] = nil
            }
        }
        revision = max(revision, entry.modRevision)
    }
}
