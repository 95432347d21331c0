import KafkaProtocol
import LogEngine

/// DeleteRecords (key 21), versions 0–2: moves partitions' log start offsets forward
/// (`PartitionLog.deleteRecords(before:)`, -1 meaning the high watermark) and answers the new low watermark.
/// Offsets beyond the high watermark get OFFSET_OUT_OF_RANGE; topics whose cleanup.policy lacks "delete" get
/// POLICY_VIOLATION, as in Kafka. The new log start offsets are checkpointed before answering. With an
/// authorizer a topic needs DELETE, else its partitions answer TOPIC_AUTHORIZATION_FAILED. Thread-safe.
struct DeleteRecordsHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()
    /// Cluster mode: partitions led elsewhere answer NOT_LEADER_OR_FOLLOWER, stale leader epochs FENCED_LEADER_EPOCH.
    var routing: ClusterRouting? = nil

    static let highWatermark: Int64 = -1

    func makeHandler() -> ApiHandler {
        ApiHandler(DeleteRecordsRequest.self, response: DeleteRecordsResponse.self, versions: 0...2, blocking: .always) { request, context in
            // Deleting segments and checkpointing the new log start offsets touch files.
            self.respond(request) { self.access.allows(context, .delete, .topic, $0) }
        }
    }

    func respond(_ request: DeleteRecordsRequest, allowed: (String) -> Bool = { _ in true }) -> DeleteRecordsResponse {
        var deleted = false
        let response = DeleteRecordsResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
            let permitted = allowed(topic.name)
            return .init(name: topic.name, partitions: topic.partitions.map { partition in
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult(
                    partitionIndex: partition.partitionIndex, lowWatermark: -1)
                guard permitted else {
                    result.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                    return result
                }
                result.errorCode = delete(topic.name, partition, into: &result, deleted: &deleted).rawValue
                return result
            })
        })
        if deleted { try? topics.logs.checkpoint() }
        return response
    }

    private func delete(
        _ topicName: String, _ partition: DeleteRecordsRequest.DeleteRecordsPartition,
        into result: inout DeleteRecordsResponse.DeleteRecordsPartitionResult, deleted: inout Bool
    ) -> KafkaErrorCode {
        if let refusal = routing?.refusal(topicName, partition.partitionIndex) { return refusal.code }
        guard let config = topics.topicConfig(named: topicName), let log = topics.partition(topicName, partition.partitionIndex) else {
            return .unknownTopicOrPartition
        }
        guard config.cleanupPolicy.contains(.delete) else { return .policyViolation }
        let offset = partition.offset == Self.highWatermark ? log.highWatermark : partition.offset
        guard offset >= 0 else { return .offsetOutOfRange }
        do {
            result.lowWatermark = try log.deleteRecords(before: offset)
            deleted = true
            return .noError
        } catch {
            return KafkaErrorCode(error)
        }
    }
}
