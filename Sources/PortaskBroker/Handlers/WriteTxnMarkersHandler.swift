import Foundation
import KafkaProtocol
import LogEngine
import NIOCore

/// WriteTxnMarkers (key 27, v0–1): writes the given commit or abort markers to partitions directly, as Kafka's
/// partition leaders do for the coordinator; admin tools use it to abort a hanging transaction. Each marker is
/// appended durably before the answer; a marker of an epoch older than the partition's producer gets
/// INVALID_PRODUCER_EPOCH; a marker on `__consumer_offsets` applies or drops the producer's pending offsets.
/// With an authorizer it needs CLUSTER_ACTION on the cluster, else every partition answers
/// CLUSTER_AUTHORIZATION_FAILED, as Kafka checks it.
/// Thread-safe: appends are serialised by each partition log.
struct WriteTxnMarkersHandler: Sendable {
    let topics: TopicManager
    let groups: GroupCoordinator
    var access = AccessControl()

    func makeHandler() -> ApiHandler {
        ApiHandler(WriteTxnMarkersRequest.self, response: WriteTxnMarkersResponse.self, versions: 0...1) { request, context in
            var response = WriteTxnMarkersResponse()
            guard access.allowsCluster(context, .clusterAction) else {
                response.markers = request.markers.map { marker in
                    .init(producerId: marker.producerId, topics: marker.topics.map { topic in
                        .init(name: topic.name, partitions: topic.partitionIndexes.map {
                            .init(partitionIndex: $0, errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue)
                        })
                    })
                }
                return response
            }
            for marker in request.markers {
                var result = WriteTxnMarkersResponse.WritableTxnMarkerResult(producerId: marker.producerId)
                var offsetsMarked = false
                for topic in marker.topics {
                    var topicResult = WriteTxnMarkersResponse.WritableTxnMarkerTopicResult(name: topic.name)
                    for partition in topic.partitionIndexes {
                        let code = await write(marker, topic: topic.name, partition: partition)
                        if code == .noError && topic.name == OffsetsTopic.name { offsetsMarked = true }
                        topicResult.partitions.append(.init(partitionIndex: partition, errorCode: code.rawValue))
                    }
                    result.topics.append(topicResult)
                }
                if offsetsMarked {
                    await groups.completeTransaction(producerId: marker.producerId, commit: marker.transactionResult)
                }
                response.markers.append(result)
            }
            return response
        }
    }

    private func write(_ marker: WriteTxnMarkersRequest.WritableTxnMarker, topic: String, partition: Int32) async
        -> KafkaErrorCode
    {
        guard marker.producerId >= 0, marker.producerEpoch >= 0 else { return .invalidRequest }
        guard let log = topics.partition(topic, partition) else { return .unknownTopicOrPartition }
        do {
            let batch = try ControlRecord(isCommit: marker.transactionResult, coordinatorEpoch: marker.coordinatorEpoch)
                .batch(producerId: marker.producerId, producerEpoch: marker.producerEpoch,
                       timestamp: Int64(Date().timeIntervalSince1970 * 1000))
            let info = try log.append(ByteBuffer(bytes: batch), origin: .broker)
            try await log.waitUntilDurable(info.lastOffset + 1)
            return .noError
        } catch {
            return KafkaErrorCode(error)
        }
    }
}
