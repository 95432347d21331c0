import KafkaProtocol

/// DescribeProducers (key 61), version 0: the idempotent producers each partition tracks (producer id, epoch,
/// last sequence, timestamp of the last batch). Coordinator epoch and transaction start offset are -1 while
/// transactions are not served. A partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION.
///
/// Thread-safe: reads each partition's producer state under its lock.
struct DescribeProducersHandler: Sendable {
    let topics: TopicManager

    func makeHandler() -> ApiHandler {
        ApiHandler(DescribeProducersRequest.self, response: DescribeProducersResponse.self, versions: 0...0) { request, _ in
            self.respond(request)
        }
    }

    func respond(_ request: DescribeProducersRequest) -> DescribeProducersResponse {
        DescribeProducersResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitionIndexes.map { index in
                guard let log = topics.partition(topic.name, index) else {
                    return .init(
                        partitionIndex: index, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue,
                        errorMessage: "This server does not host this topic-partition.")
                }
                return .init(partitionIndex: index, errorCode: 0, activeProducers: log.activeProducers.map { entry in
                    .init(
                        producerId: entry.producerId, producerEpoch: Int32(entry.producerEpoch),
                        lastSequence: entry.lastSequence, lastTimestamp: entry.lastTimestamp,
                        coordinatorEpoch: entry.coordinatorEpoch, currentTxnStartOffset: entry.currentTxnFirstOffset)
                })
            })
        })
    }
}
