import Foundation
import KafkaProtocol
import LogEngine

/// DescribeLogDirs (key 35), versions 0–5: the broker's one data directory with the size of each requested
/// partition (all when the topic list is null); v5's cordoned flag (KIP-1066) is false, as a directory cannot be
/// cordoned here; v4 adds the file system's total and usable bytes (statvfs).
/// A single replica has no lag and no future replicas. With an authorizer it needs DESCRIBE on the cluster,
/// else CLUSTER_AUTHORIZATION_FAILED and no directories, as Kafka answers. Thread-safe.
struct DescribeLogDirsHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()

    func makeHandler() -> ApiHandler {
        ApiHandler(DescribeLogDirsRequest.self, response: DescribeLogDirsResponse.self, versions: 0...5) { request, context in
            guard self.access.allowsCluster(context, .describe) else {
                return DescribeLogDirsResponse(
                    throttleTimeMs: 0, errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, results: [])
            }
            return self.respond(request)
        }
    }

    func respond(_ request: DescribeLogDirsRequest) -> DescribeLogDirsResponse {
        let directory = URL(fileURLWithPath: topics.config.dataDirectory).standardizedFileURL.path
        var described: [DescribeLogDirsResponse.DescribeLogDirsTopic] = []
        if let requested = request.topics {
            var seen = Set<String>()
            for entry in requested where seen.insert(entry.topic).inserted {
                let indexes = requested.filter { $0.topic == entry.topic }.flatMap(\.partitions)
                if let topic = describe(entry.topic, partitions: indexes) { described.append(topic) }
            }
        } else {
            for topic in topics.allTopics() {
                if let topic = describe(topic.name, partitions: Array(0..<Int32(topic.partitionCount))) {
                    described.append(topic)
                }
            }
        }
        let (total, usable) = DiskSpace.of(directory)
        return DescribeLogDirsResponse(throttleTimeMs: 0, errorCode: 0, results: [
            .init(errorCode: 0, logDir: directory, topics: described, totalBytes: total, usableBytes: usable),
        ])
    }

    private func describe(_ name: String, partitions: [Int32]) -> DescribeLogDirsResponse.DescribeLogDirsTopic? {
        var seen = Set<Int32>()
        let found: [DescribeLogDirsResponse.DescribeLogDirsPartition] = partitions.compactMap { index in
            guard seen.insert(index).inserted, let log = topics.partition(name, index) else { return nil }
            return .init(partitionIndex: index, partitionSize: Int64(log.sizeInBytes), offsetLag: 0, isFutureKey: false)
        }
        return found.isEmpty ? nil : .init(name: name, partitions: found)
    }
}
