import KafkaProtocol

/// DescribeProducers (key 61), version 0: the idempotent producers each partition tracks (producer id, epoch,
/// last sequence, timestamp of the last batch). Coordinator epoch and transaction start offset are -1 while
/// transactions are not served. A partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION.
///
/// With an authorizer a topic needs READ, else its partitions answer TOPIC_AUTHORIZATION_FAILED.
///
/// Thread-safe: reads each partition's producer state under its lock.
struct DescribeProducersHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()

    func makeHandler() -> ApiHandler {
        ApiHandler(DescribeProducersRequest.self, response: DescribeProducersResponse.self, versions: 0...0) { request, context in
            self.respond(request) { self.access.allows(context, .read, .topic, $0) }
        }
    }

    func respond(_ request: DescribeProducersRequest, allowed: (String) -> Bool = { _ in true }) -> DescribeProducersResponse {
        DescribeProducersResponse(throttleTimeMs: 0, topics: request.topics.map { topic in
            let permitted = allowed(topic.name)
            return .init(name: topic.name, partitions: topic.partitionIndexes.map { index in
                guard permitted else {
                    return .init(
                        partitionIndex: index, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue,
                        errorMessage: "Topic authorization failed.")
                }
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
