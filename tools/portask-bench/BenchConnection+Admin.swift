import KafkaProtocol
import NIOCore

/// The few administrative requests the benchmark needs before it starts: topic creation, partition count,
/// log offsets. Callable from any thread.
extension BenchConnection {
    /// Creates `topic` with `partitions` partitions unless it exists (TOPIC_ALREADY_EXISTS is fine).
    func createTopic(_ topic: String, partitions: Int) async throws {
        let request = CreateTopicsRequest(
            topics: [.init(name: topic, numPartitions: Int32(partitions), replicationFactor: 1)], timeoutMs: 30_000)
        let response = try await self.request(request, version: 5, response: CreateTopicsResponse.self)
        for result in response.topics where result.errorCode != 0 && result.errorCode != 36 {
            throw BenchError("CreateTopics \(topic): error \(result.errorCode) \(result.errorMessage ?? "")")
        }
    }

    /// The partition indexes of `topic`, sorted; throws when the topic does not exist.
    func partitions(of topic: String) async throws -> [Int32] {
        let request = MetadataRequest(topics: [.init(name: topic)], allowAutoTopicCreation: false)
        let response = try await self.request(request, version: 9, response: MetadataResponse.self)
        guard let entry = response.topics.first(where: { $0.name == topic }), entry.errorCode == 0 else {
            throw BenchError("topic \(topic) is not known to the broker")
        }
        return entry.partitions.map(\.partitionIndex).sorted()
    }

    /// The offset of each partition for `timestamp` (-2 earliest, -1 latest).
    func offsets(of topic: String, partitions: [Int32], timestamp: Int64) async throws -> [Int32: Int64] {
        let request = ListOffsetsRequest(
            replicaId: -1,
            topics: [.init(name: topic, partitions: partitions.map { .init(partitionIndex: $0, timestamp: timestamp) })])
        let response = try await self.request(request, version: 5, response: ListOffsetsResponse.self)
        var result: [Int32: Int64] = [:]
        for entry in response.topics where entry.name == topic {
            for partition in entry.partitions {
                guard partition.errorCode == 0 else {
                    throw BenchError("ListOffsets \(topic)-\(partition.partitionIndex): error \(partition.errorCode)")
                }
                result[partition.partitionIndex] = partition.offset
            }
        }
        return result
    }
}
