import KafkaProtocol

/// DescribeTopicPartitions (key 75, v0, KIP-966): topics and their partitions in name order, at most a partition
/// limit per response, continued through a cursor (what the Java Admin's `describeTopics` uses from 3.7).
///
/// As Kafka: an empty topic list means every topic; topics sorting before the cursor's topic are skipped and the
/// cursor's topic starts at its partition; the limit is the request's, capped by `max.request.partition.size.limit`
/// and at least 1. When the limit runs out inside a topic, the next cursor points at its next partition; when it
/// runs out exactly at a topic's end, at partition 0 of the next topic. Named topics that do not exist are
/// UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an invalid name); with "every topic" none are. A cursor
/// naming a topic the list lacks, or a negative cursor partition, fails the request with INVALID_REQUEST. One
/// replica: this broker leads every partition at epoch 0, no eligible leader replicas (ELR) are kept.
/// With an authorizer topics without DESCRIBE are left out of an every-topic answer and answer
/// TOPIC_AUTHORIZATION_FAILED when named; authorized operations are the principal's. Thread-safe.
struct DescribeTopicPartitionsHandler: Sendable {
    let cluster: ClusterIdentity
    let topics: TopicManager
    var access = AccessControl()
    /// Cluster mode: partition states come from the cluster metadata.
    var routing: ClusterRouting? = nil
    /// Kafka's `max.request.partition.size.limit`.
    var maximumPartitions = 2000

    /// Every operation on a topic (READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10,
    /// ALTER_CONFIGS 11), all allowed without an authorizer, as Kafka reports them.
    static let topicOperations: Int32 = [3, 4, 5, 6, 7, 8, 10, 11].reduce(0) { $0 | (1 << $1) }

    func makeHandler() -> ApiHandler {
        ApiHandler(
            DescribeTopicPartitionsRequest.self, response: DescribeTopicPartitionsResponse.self, versions: 0...0
        ) { request, context in
            self.respond(
                request, visible: { self.access.allows(context, .describe, .topic, $0) },
                operations: { self.access.authorizedOperations(context, .topic, $0) })
        }
    }

    func respond(
        _ request: DescribeTopicPartitionsRequest, visible: (String) -> Bool = { _ in true },
        operations: (String) -> Int32 = { _ in Self.topicOperations }
    ) -> DescribeTopicPartitionsResponse {
        let cursorTopic = request.cursor?.topicName ?? ""
        let image = routing?.image
        let everyTopic = request.topics.isEmpty
        var names: Set<String>
        if everyTopic {
            names = Set(topics.allTopics().map(\.name).filter { $0 >= cursorTopic && visible($0) })
        } else {
            names = Set(request.topics.map(\.name).filter { $0 >= cursorTopic })
            if let cursor = request.cursor, !names.contains(cursor.topicName) {
                return failed(request, "the topic list should contain the cursor topic \(cursor.topicName)")
            }
        }
        if let cursor = request.cursor, cursor.partitionIndex < 0 {
            return failed(request, "the cursor partition must be valid: \(cursor.partitionIndex)")
        }
        var remaining = max(min(maximumPartitions, Int(request.responsePartitionLimit)), 1)
        var response = DescribeTopicPartitionsResponse(throttleTimeMs: 0)
        for name in names.sorted() {
            if remaining == 0 {
                response.nextCursor = .init(topicName: name, partitionIndex: 0)
                break
            }
            guard everyTopic || visible(name) else {
                response.topics.append(.init(
                    errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, name: name, topicId: .zero,
                    isInternal: false))
                continue
            }
            guard let topic = topics.topic(named: name) else {
                if !everyTopic {
                    let code: KafkaErrorCode = Topic.validate(name: name) == nil
                        ? .unknownTopicOrPartition : .invalidTopicException
                    response.topics.append(.init(errorCode: code.rawValue, name: name, isInternal: false))
                }
                continue
            }
            let start = name == cursorTopic ? Int(request.cursor?.partitionIndex ?? 0) : 0
            let end = min(topic.partitionCount, start + remaining)
            let indexes = start < end ? Array(start..<end) : []
            response.topics.append(.init(
                name: name, topicId: topic.id, isInternal: topic.isInternal,
                partitions: indexes.map { describe(topic: name, partition: Int32($0), image: image) },
                topicAuthorizedOperations: operations(name)))
            if end < topic.partitionCount {
                response.nextCursor = .init(topicName: name, partitionIndex: Int32(end))
                break
            }
            remaining -= indexes.count
        }
        return response
    }

    private func describe(
        topic: String, partition: Int32, image: MetadataImage?
    ) -> DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponsePartition {
        let node = cluster.nodeId
        if let image, let state = image.partition(topic, partition) {
            let described = MetadataHandler.describe(partition: partition, state, live: image.brokers)
            return .init(
                errorCode: described.errorCode, partitionIndex: partition, leaderId: described.leaderId,
                leaderEpoch: described.leaderEpoch, replicaNodes: described.replicaNodes, isrNodes: described.isrNodes,
                eligibleLeaderReplicas: [], lastKnownElr: [], offlineReplicas: described.offlineReplicas)
        }
        return .init(
            partitionIndex: partition, leaderId: node, leaderEpoch: 0, replicaNodes: [node], isrNodes: [node],
            eligibleLeaderReplicas: [], lastKnownElr: [], offlineReplicas: [])
    }

    /// Kafka's answer to a request it refuses as a whole: every named topic with the error, no partitions.
    private func failed(_ request: DescribeTopicPartitionsRequest, _ message: String) -> DescribeTopicPartitionsResponse {
        DescribeTopicPartitionsResponse(throttleTimeMs: 0, topics: request.topics.map {
            .init(errorCode: KafkaErrorCode.invalidRequest.rawValue, name: $0.name, topicId: .zero)
        })
    }
}
