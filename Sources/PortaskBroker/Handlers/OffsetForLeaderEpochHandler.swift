import KafkaProtocol

/// OffsetForLeaderEpoch (key 23), versions 0–4: the end offset of a leader epoch, used by consumers to detect
/// log truncation. portaskd is a single replica whose partitions have always had leader epoch 0, so no data was
/// ever truncated by a leader change: for any requested epoch >= 0 the answer is that epoch with the log end
/// offset (for epoch 0 exactly Kafka's answer; for a higher epoch, seen in batches of data copied from another
/// broker, it tells the consumer nothing was truncated). Epoch -1 gets the undefined answer (-1, -1).
/// A current leader epoch (v2+) above 0 gets UNKNOWN_LEADER_EPOCH, below 0 (other than -1) FENCED_LEADER_EPOCH.
/// With an authorizer a request from a replica (replica id other than -1) needs CLUSTER_ACTION (else every
/// partition answers CLUSTER_AUTHORIZATION_FAILED) and each topic DESCRIBE (else TOPIC_AUTHORIZATION_FAILED).
/// Thread-safe.
struct OffsetForLeaderEpochHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()
    static let consumerReplicaId: Int32 = -1

    static let leaderEpoch: Int32 = 0
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
        guard let log = topics.partition(topic, partition.partition) else {
            result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
            return result
        }
        if partition.currentLeaderEpoch != Self.undefined {
            if partition.currentLeaderEpoch > Self.leaderEpoch {
                result.errorCode = KafkaErrorCode.unknownLeaderEpoch.rawValue
                return result
            }
            if partition.currentLeaderEpoch < Self.leaderEpoch {
                result.errorCode = KafkaErrorCode.fencedLeaderEpoch.rawValue
                return result
            }
        }
        if partition.leaderEpoch >= 0 {
            result.leaderEpoch = partition.leaderEpoch
            result.endOffset = log.logEndOffset
        }
        return result
    }
}
