import KafkaProtocol
import LogEngine

/// ListOffsets (key 2), versions 0–11: the offsets of partitions by special timestamp or by time.
///
/// Special timestamps, each from the version that introduced it (older versions get UNSUPPORTED_VERSION, as
/// Kafka's `timestampMinSupportedVersion`): latest -1 (the high watermark, or the last stable offset for
/// read_committed), earliest -2 (the log start offset), max timestamp -3 (v7+: the record with the largest
/// timestamp, as Kafka finds it), earliest local -4 (v8+: the log start, all data being local), latest tiered -5
/// (v9+) and earliest pending upload -6 (v11+) — both -1 with leader epoch -1, as Kafka answers for a topic
/// without tiered storage. A timestamp >= 0 finds the first record at least that new, its own offset and
/// timestamp, inside compressed batches too. v10's timeout bounds remote-storage lookups, which never happen
/// here: it is read and the answer is immediate. A found offset at or past the last fetchable offset is not
/// answered (-1), and a partition named twice gets INVALID_REQUEST (v1+). Thread-safe.
struct ListOffsetsHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()
    /// Cluster mode: partitions led elsewhere answer NOT_LEADER_OR_FOLLOWER, stale leader epochs FENCED_LEADER_EPOCH.
    var routing: ClusterRouting? = nil

    static let latest: Int64 = -1
    static let earliest: Int64 = -2
    static let maxTimestamp: Int64 = -3
    static let earliestLocal: Int64 = -4
    static let latestTiered: Int64 = -5
    static let earliestPendingUpload: Int64 = -6

    /// The first version that accepts each special timestamp.
    static let firstVersion: [Int64: Int16] = [
        latest: 0, earliest: 0, maxTimestamp: 7, earliestLocal: 8, latestTiered: 9, earliestPendingUpload: 11,
    ]
    /// The partitions' leader epoch (one replica, never re-elected).
    static let leaderEpoch: Int32 = 0
    static let readCommitted: Int8 = 1

    func makeHandler() -> ApiHandler {
        // Timestamp and max-timestamp lookups read and may decompress batches: off the event loop.
        ApiHandler(
            ListOffsetsRequest.self, response: ListOffsetsResponse.self, versions: 0...11,
            blocking: .when { request, _ in Self.readsRecords(request) }
        ) { request, context in
            var response = self.respond(request, version: context.apiVersion)
            // With an authorizer each topic needs DESCRIBE, else TOPIC_AUTHORIZATION_FAILED.
            for index in response.topics.indices
            where !self.access.allows(context, .describe, .topic, response.topics[index].name) {
                for partition in response.topics[index].partitions.indices {
                    response.topics[index].partitions[partition] = .init(
                        partitionIndex: response.topics[index].partitions[partition].partitionIndex,
                        errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, timestamp: -1, offset: -1,
                        leaderEpoch: -1)
                }
            }
            return response
        }
    }

    /// Whether answering `request` reads records (a timestamp or max-timestamp query).
    static func readsRecords(_ request: ListOffsetsRequest) -> Bool {
        request.topics.contains { $0.partitions.contains { $0.timestamp >= 0 || $0.timestamp == maxTimestamp } }
    }

    func respond(_ request: ListOffsetsRequest, version: Int16) -> ListOffsetsResponse {
        var seen = Set<TopicPartition>()
        var duplicates = Set<TopicPartition>()
        for topic in request.topics {
            for partition in topic.partitions where !seen.insert(TopicPartition(topic.name, partition.partitionIndex)).inserted {
                duplicates.insert(TopicPartition(topic.name, partition.partitionIndex))
            }
        }
        let committed = version >= 2 && request.isolationLevel == Self.readCommitted
        return ListOffsetsResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                if version >= 1 && duplicates.contains(TopicPartition(topic.name, partition.partitionIndex)) {
                    return .init(
                        partitionIndex: partition.partitionIndex, errorCode: KafkaErrorCode.invalidRequest.rawValue,
                        timestamp: -1, offset: -1)
                }
                return answer(topic: topic.name, partition: partition, version: version, readCommitted: committed)
            })
        })
    }

    private func answer(
        topic: String, partition: ListOffsetsRequest.ListOffsetsPartition, version: Int16, readCommitted: Bool
    ) -> ListOffsetsResponse.ListOffsetsPartitionResponse {
        var response = ListOffsetsResponse.ListOffsetsPartitionResponse(
            partitionIndex: partition.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1)
        let timestamp = partition.timestamp
        if timestamp < 0, version < Self.firstVersion[timestamp] ?? Int16.max {
            response.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
            return response
        }
        if let refusal = routing?.refusal(
            topic, partition.partitionIndex, currentLeaderEpoch: version >= 4 ? partition.currentLeaderEpoch : -1)
        {
            response.errorCode = refusal.code.rawValue
            return response
        }
        guard let log = topics.partition(topic, partition.partitionIndex) else {
            response.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
            return response
        }
        let lastFetchable = readCommitted ? log.lastStableOffset : log.highWatermark
        var found: TimestampAndOffset?
        do {
            switch timestamp {
            case Self.latest:
                found = TimestampAndOffset(timestamp: -1, offset: lastFetchable, leaderEpoch: log.leaderEpoch)
            case Self.earliest, Self.earliestLocal:
                found = TimestampAndOffset(timestamp: -1, offset: log.logStartOffset, leaderEpoch: Self.leaderEpoch)
            case Self.latestTiered, Self.earliestPendingUpload:
                found = TimestampAndOffset(timestamp: -1, offset: -1, leaderEpoch: -1)
            case Self.maxTimestamp:
                found = try log.maxTimestampRecord().map { .init(timestamp: $0.timestamp, offset: $0.offset, leaderEpoch: Self.leaderEpoch) }
            default:
                found = try log.record(forTimestamp: timestamp, upperBound: lastFetchable)
                    .map { .init(timestamp: $0.timestamp, offset: $0.offset, leaderEpoch: Self.leaderEpoch) }
            }
        } catch {
            response.errorCode = KafkaErrorCode(error).rawValue
            return response
        }
        // Kafka answers nothing for a record past what the client may fetch (latest and earliest excepted).
        if let result = found, timestamp != Self.latest, timestamp != Self.earliest, timestamp != Self.earliestLocal,
           result.offset >= lastFetchable
        {
            found = nil
        }
        if let found {
            response.offset = found.offset
            response.timestamp = found.timestamp
            if version >= 4 { response.leaderEpoch = found.leaderEpoch ?? -1 }
        }
        if version == 0 {
            response.oldStyleOffsets = response.offset >= 0 ? [response.offset] : []
            response.offset = -1
        }
        return response
    }
}
