import KafkaProtocol
import NIOConcurrencyHelpers

/// What request handlers ask of the cluster: which broker leads a partition, at which leader epoch, where a
/// broker is reached, and which coordinators this broker holds. Reads the image the broker has *applied* (its
/// local logs exist for every partition the image gives it), so a partition is never served before its log is
/// there. A broker whose session is lost leads nothing (it fences itself until it is registered again).
///
/// Only in cluster mode; single-node handlers get nil and behave as before. Thread-safe: every read takes one
/// short lock.
public final class ClusterRouting: Sendable {
    /// Why a request for a partition is not served here, and who leads it (KIP-951's current leader).
    public struct Refusal: Sendable, Equatable {
        public var code: KafkaErrorCode
        public var leaderId: Int32
        public var leaderEpoch: Int32
    }

    public let nodeId: Int32
    private let applied = NIOLockedValueBox(MetadataImage())
    private let registered: @Sendable () -> Bool

    init(nodeId: Int32, registered: @escaping @Sendable () -> Bool) {
        self.nodeId = nodeId
        self.registered = registered
    }

    /// The image whose topics are applied to the local logs.
    public var image: MetadataImage { applied.withLockedValue { $0 } }

    /// Publishes `image` once the local logs match it.
    func publish(_ image: MetadataImage) {
        applied.withLockedValue { $0 = image }
    }

    /// nil when this broker leads `partition` of `topic` and `currentLeaderEpoch` (-1: not given) is current;
    /// otherwise UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER (with the leader as known, -1 when offline),
    /// FENCED_LEADER_EPOCH (the client's epoch is older) or UNKNOWN_LEADER_EPOCH (newer), as Kafka answers.
    public func refusal(_ topic: String, _ partition: Int32, currentLeaderEpoch: Int32 = -1) -> Refusal? {
        guard let state = image.partition(topic, partition) else {
            return Refusal(code: .unknownTopicOrPartition, leaderId: -1, leaderEpoch: -1)
        }
        guard state.leader == nodeId, registered() else {
            return Refusal(code: .notLeaderOrFollower, leaderId: state.leader, leaderEpoch: state.leaderEpoch)
        }
        if currentLeaderEpoch >= 0, currentLeaderEpoch != state.leaderEpoch {
            let code: KafkaErrorCode = currentLeaderEpoch < state.leaderEpoch ? .fencedLeaderEpoch : .unknownLeaderEpoch
            return Refusal(code: code, leaderId: state.leader, leaderEpoch: state.leaderEpoch)
        }
        return nil
    }

    /// The leader of `partition` of `topic` when it is a live broker; nil when unknown or offline.
    public func leader(_ topic: String, _ partition: Int32) -> Int32? {
        let image = self.image
        guard let leader = image.partition(topic, partition)?.leader, image.brokers[leader] != nil else { return nil }
        return leader
    }

    /// Where clients reach `nodeId` on `listener` (its first endpoint when it has no such listener).
    public func endpoint(of nodeId: Int32, listener: String) -> BrokerRegistration.Endpoint? {
        Self.endpoint(in: image, of: nodeId, listener: listener)
    }

    static func endpoint(in image: MetadataImage, of nodeId: Int32, listener: String) -> BrokerRegistration.Endpoint? {
        guard let endpoints = image.brokers[nodeId]?.registration.endpoints else { return nil }
        return endpoints.first { $0.listener == listener } ?? endpoints.first
    }

    /// KIP-951's node endpoints for the leaders named in `refusals` (live brokers only).
    func nodeEndpoints(for leaders: Set<Int32>, listener: String) -> [(nodeId: Int32, host: String, port: Int32, rack: String?)] {
        let image = self.image
        return leaders.sorted().compactMap { node in
            guard let endpoint = Self.endpoint(in: image, of: node, listener: listener) else { return nil }
            return (node, endpoint.host, endpoint.port, image.brokers[node]?.registration.rack)
        }
    }

    /// Whether this broker coordinates the keys stored in `partition` of the internal topic `topic`.
    public func coordinates(_ topic: String, partition: Int32) -> Bool {
        registered() && image.partition(topic, partition)?.leader == nodeId
    }
}
