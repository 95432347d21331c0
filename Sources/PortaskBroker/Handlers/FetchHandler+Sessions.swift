import KafkaProtocol

extension FetchHandler {
    /// Fetch sessions exist from version 7.
    static let firstSessionVersion: Int16 = 7

    /// The session context of a request: sessionless before v7 or when the client asks for none.
    func sessionContext(_ request: FetchRequest, version: Int16) -> FetchSessionCache.Context {
        guard version >= Self.firstSessionVersion else { return .sessionless }
        let requested = request.topics.flatMap { topic in
            topic.partitions.map { partition in
                FetchSessionCache.PartitionState(
                    key: Self.key(topic: topic.topic, topicId: topic.topicId, partition: partition.partition, version: version),
                    fetchOffset: partition.fetchOffset, maxBytes: partition.partitionMaxBytes)
            }
        }
        let forgotten = request.forgottenTopicsData.flatMap { topic in
            topic.partitions.map { Self.key(topic: topic.topic, topicId: topic.topicId, partition: $0, version: version) }
        }
        return sessions.context(
            sessionId: request.sessionId, epoch: request.sessionEpoch, requested: requested, forgotten: forgotten)
    }

    static func key(topic: String, topicId: KafkaUUID, partition: Int32, version: Int16) -> FetchSessionCache.Key {
        version >= 13
            ? FetchSessionCache.Key(topicId: topicId, topic: "", partition: partition)
            : FetchSessionCache.Key(topicId: .zero, topic: topic, partition: partition)
    }

    /// The session's partitions as request topics, in session order, consecutive partitions of a topic grouped.
    static func fetchTopics(_ partitions: [FetchSessionCache.PartitionState]) -> [FetchRequest.FetchTopic] {
        var topics: [FetchRequest.FetchTopic] = []
        for state in partitions {
            let partition = FetchRequest.FetchPartition(
                partition: state.key.partition, fetchOffset: state.fetchOffset, partitionMaxBytes: state.maxBytes)
            if let last = topics.last, last.topic == state.key.topic, last.topicId == state.key.topicId {
                topics[topics.count - 1].partitions.append(partition)
            } else {
                topics.append(.init(topic: state.key.topic, topicId: state.key.topicId, partitions: [partition]))
            }
        }
        return topics
    }

    /// An incremental response carries a partition only when it has records, an error, or offsets that changed
    /// since the session last reported them.
    func needsAnswer(_ result: PartitionResult, lastSent: FetchSessionCache.PartitionState?) -> Bool {
        guard result.slice == nil, result.response.errorCode == 0, let lastSent else { return true }
        return lastSent.lastHighWatermark != result.response.highWatermark
            || lastSent.lastLogStartOffset != result.response.logStartOffset
    }

    /// Stamps the session id, drops topics left without partitions, and remembers what was sent.
    func finishSessionResponse(_ response: inout FetchResponse, sessionId: Int32, version: Int16) {
        response.sessionId = sessionId
        response.responses.removeAll { $0.partitions.isEmpty }
        for topic in response.responses {
            for partition in topic.partitions {
                sessions.recordSent(
                    sessionId: sessionId,
                    key: Self.key(topic: topic.topic, topicId: topic.topicId, partition: partition.partitionIndex, version: version),
                    highWatermark: partition.highWatermark, logStartOffset: partition.logStartOffset)
            }
        }
    }
}
