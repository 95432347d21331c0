import KafkaProtocol

/// OffsetForLeaderEpoch (key 23), versions 0–4: the end offset of a leader epoch, used by consumers to detect
/// log truncation, answered from the partition's epoch cache as Kafka's leader does (`PartitionLog.endOffset(
/// forLeaderEpoch:)`): the current epoch ends at the log end offset, an older one at the start of the next
/// larger epoch; epoch -1, epochs above the latest and partitions with no epoch entry yet get (-1, -1).
/// A current leader epoch (v2+) above the log's leader epoch gets UNKNOWN_LEADER_EPOCH, below it (other than -1)
/// FENCED_LEADER_EPOCH.
/// With an authorizer a request from a replica (replica id other than -1) needs CLUSTER_ACTION (else every
/// partition answers CLUSTER_AUTHORIZATION_FAILED) and each topic DESCRIBE (else TOPIC_AUTHORIZATION_FAILED).
/// Thread-safe.
struct OffsetForLeaderEpochHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()
    /// Cluster mode: partitions led elsewhere answer NOT_LEADER_OR_FOLLOWER, stale leader epochs FENCED_LEADER_EPOCH.
    var routing: ClusterRouting? = nil
    static let consumerReplicaId: Int32 = -1

    static let undefined: Int32 = -1

    func makeHandler() -> ApiHandler {
        ApiHandler(OffsetForLeaderEpochRequest.self, response: OffsetForLeaderEpochResponse.self, versions: 0...4) { request, context in
            let clusterAllowed = request.replicaId == Self.consumerReplicaId
                || self.access.allowsCluster(context, .clusterAction)
            return self.respond(request) { topic in
                !clusterAllowed ? .clusterAuthorizationFailed
                    : self.access.allows(context, .describe, .topic, topic) ? nil : .topicAuthorizationFailed
            }
        }
    }

    /// `refusal` is the authorizer's error for a topic, nil when allowed.
    func respond(
        _ request: OffsetForLeaderEpochRequest, refusal: (String) -> KafkaErrorCode? = { _ in nil }
    ) -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
            let refused = refusal(topic.topic)
            return .init(topic: topic.topic, partitions: topic.partitions.map { partition in
                guard let refused else { return answer(topic.topic, partition) }
                return .init(errorCode: refused.rawValue, partition: partition.partition,
                             leaderEpoch: Self.undefined, endOffset: -1)
            })
        })
    }

    private func answer(
        _ topic: String, _ partition: OffsetForLeaderEpochRequest.OffsetForLeaderPartition
    ) -> OffsetForLeaderEpochResponse.EpochEndOffset {
        var result = OffsetForLeaderEpochResponse.EpochEndOffset(
            errorCode: 0, partition: partition.partition, leaderEpoch: Self.undefined, endOffset: -1)
        if let refusal = routing?.refusal(topic, partition.partition, currentLeaderEpoch: partition.currentLeaderEpoch) {
            result.errorCode = refusal.code.rawValue
            return result
        }
        guard let log = topics.partition(topic, partition.partition) else {
            result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
            return result
        }
        if partition.currentLeaderEpoch != Self.undefined {
            let leaderEpoch = log.leaderEpoch
            if partition.currentLeaderEpoch > leaderEpoch {
                result.errorCode = KafkaErrorCode.unknownLeaderEpoch.rawValue
                return result
            }
            if partition.currentLeaderEpoch < leaderEpoch {
                result.errorCode = KafkaErrorCode.fencedLeaderEpoch.rawValue
                return result
            }
        }
        (result.leaderEpoch, result.endOffset) = log.endOffset(forLeaderEpoch: partition.leaderEpoch)
        return result
    }
}
