import KafkaProtocol
import LogEngine

/// ListOffsets (key 2): earliest (-2), latest (-1) and by-timestamp offsets of partitions; under read_committed
/// (v2+) bounded by the last stable offset, as Kafka does.
///
/// Versions 0–6: version 7 adds the max-timestamp query (-3), which needs a per-log max-timestamp lookup that
/// is not served yet. For a timestamp query the answer's timestamp is the found batch's max timestamp.
struct ListOffsetsHandler: Sendable {
    let topics: TopicManager

    static let latest: Int64 = -1
    static let earliest: Int64 = -2

    func makeHandler() -> ApiHandler {
        ApiHandler(ListOffsetsRequest.self, response: ListOffsetsResponse.self, versions: 0...6) { request, context in
            self.respond(request, version: context.apiVersion)
        }
    }

    func respond(_ request: ListOffsetsRequest, version: Int16) -> ListOffsetsResponse {
        ListOffsetsResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                answer(
                    topic: topic.name, partition: partition, version: version,
                    readCommitted: version >= 2 && request.isolationLevel == 1)
            })
        })
    }

    private func answer(
        topic: String, partition: ListOffsetsRequest.ListOffsetsPartition, version: Int16, readCommitted: Bool
    ) -> ListOffsetsResponse.ListOffsetsPartitionResponse {
        var response = ListOffsetsResponse.ListOffsetsPartitionResponse(
            partitionIndex: partition.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1)
        guard let log = topics.partition(topic, partition.partitionIndex) else {
            response.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
            return response
        }
        if version >= 4 { response.leaderEpoch = 0 }
        do {
            switch partition.timestamp {
            case Self.latest:
                // read_committed: the last stable offset (nothing of an open transaction is listed).
                response.offset = readCommitted ? log.lastStableOffset : log.highWatermark
            case Self.earliest:
                response.offset = log.logStartOffset
            case let timestamp where timestamp >= 0:
                if let offset = try log.offset(forTimestamp: timestamp),
                   !readCommitted || offset < log.lastStableOffset
                {
                    response.offset = offset
                    response.timestamp = try batchMaxTimestamp(log, offset: offset) ?? timestamp
                }
            default:
                response.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
            }
        } catch {
            response.errorCode = KafkaErrorCode(error).rawValue
        }
        if version == 0 && response.errorCode == 0 {
            response.oldStyleOffsets = response.offset >= 0 ? [response.offset] : []
            response.offset = -1
        }
        return response
    }

    /// The max timestamp of the batch holding `offset`, read from its header.
    private func batchMaxTimestamp(_ log: PartitionLog, offset: Int64) throws -> Int64? {
        guard let slice = try log.read(from: offset, maxBytes: 1, minOneBatch: true) else { return nil }
        return try slice.withUnsafeBytes { bytes -> Int64? in
            RecordBatchSequence.header(in: bytes, at: 0)?.maxTimestamp
        }
    }
}
