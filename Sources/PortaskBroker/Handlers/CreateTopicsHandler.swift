import Foundation
import KafkaProtocol
import LogEngine

/// CreateTopics (key 19), versions 0–7: creates topics with their partition logs, checking in Kafka's order
/// (name, existence, configs, then assignment or counts) with Kafka's error codes and messages. A single broker
/// serves replication factor 1 (or -1 for `default.replication.factor`); a manual assignment must place every
/// partition on this broker alone. validateOnly (v1+) checks without creating. v5+ answers carry the partition
/// count, replication factor and the topic's configs with their sources; v7+ the topic id. Thread-safe.
/// With an authorizer a topic needs CREATE on the cluster or on the topic, else TOPIC_AUTHORIZATION_FAILED.
struct CreateTopicsHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()

    func makeHandler() -> ApiHandler {
        ApiHandler(CreateTopicsRequest.self, response: CreateTopicsResponse.self, versions: 0...7, blocking: .always) { request, context in
            guard self.access.isEnabled, !self.access.allowsCluster(context, .create) else {
                return self.respond(request)
            }
            var permitted = request
            permitted.topics = request.topics.filter { self.access.allows(context, .create, .topic, $0.name) }
            var response = self.respond(permitted)
            var refused = Set<String>()
            for topic in request.topics where !self.access.allows(context, .create, .topic, topic.name) {
                guard refused.insert(topic.name).inserted else { continue }
                response.topics.append(.init(
                    name: topic.name, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue,
                    errorMessage: "Authorization failed."))
            }
            return response
        }
    }

    func respond(_ request: CreateTopicsRequest) -> CreateTopicsResponse {
        var counts: [String: Int] = [:]
        for topic in request.topics { counts[topic.name, default: 0] += 1 }
        var answered = Set<String>()
        // One result per name, as Kafka answers (a name given twice is refused once).
        return CreateTopicsResponse(throttleTimeMs: 0, topics: request.topics.compactMap { topic in
            guard answered.insert(topic.name).inserted else { return nil }
            if counts[topic.name, default: 0] > 1 {
                return failure(topic.name, AdminOutcome(.invalidRequest, "Duplicate topic name."))
            }
            if topic.name == Self.clusterMetadataTopic {
                return failure(topic.name, AdminOutcome(.invalidRequest, "Creation of internal topic \(Self.clusterMetadataTopic) is prohibited."))
            }
            return create(topic, validateOnly: request.validateOnly)
        })
    }

    /// KRaft's metadata log, which Kafka never lets clients create.
    static let clusterMetadataTopic = "__cluster_metadata"

    private func failure(_ name: String, _ outcome: AdminOutcome) -> CreateTopicsResponse.CreatableTopicResult {
        .init(name: name, errorCode: outcome.code.rawValue, errorMessage: outcome.message)
    }

    private func create(_ request: CreateTopicsRequest.CreatableTopic, validateOnly: Bool) -> CreateTopicsResponse.CreatableTopicResult {
        let name = request.name
        if let reason = Topic.validate(name: name) { return failure(name, AdminOutcome(.invalidTopicException, reason)) }
        if topics.topic(named: name) != nil {
            return failure(name, AdminOutcome(.topicAlreadyExists, "Topic '\(name)' already exists."))
        }
        if name.contains(".") || name.contains("_") {
            let normalized = Self.collisionForm(name)
            if let other = topics.allTopics().first(where: { Self.collisionForm($0.name) == normalized }) {
                return failure(name, AdminOutcome(.invalidTopicException, "Topic '\(name)' collides with existing topic: \(other.name)"))
            }
        }
        let nullConfigs = request.configs.filter { $0.value == nil }.map(\.name)
        if !nullConfigs.isEmpty {
            return failure(name, AdminOutcome(.invalidConfig, "Null value not supported for topic configs: \(nullConfigs.joined(separator: ","))"))
        }
        var configs: [String: String] = [:]
        for config in request.configs { configs[config.name] = config.value }
        let configOutcome = ConfigAlterer.validate(configs, broker: topics.config)
        guard configOutcome.isSuccess else { return failure(name, configOutcome) }

        let partitionCount: Int
        switch shape(of: request) {
        case .failure(let outcome): return failure(name, outcome)
        case .success(let count): partitionCount = count
        }
        let topic: Topic
        if validateOnly {
            topic = Topic(name: name, id: .random(), partitionCount: partitionCount, configs: configs)
        } else {
            do {
                topic = try topics.create(name: name, partitions: partitionCount, configs: configs)
            } catch {
                return failure(name, Self.outcome(error))
            }
        }
        return .init(
            name: name, topicId: topic.id, errorCode: 0, errorMessage: nil, topicConfigErrorCode: 0,
            numPartitions: Int32(topic.partitionCount), replicationFactor: 1,
            configs: ConfigDescriber.topicEntries(overrides: configs, config: topics.config)
                .sorted { $0.name < $1.name }
                .map { .init(name: $0.name, value: $0.value, readOnly: $0.readOnly, configSource: $0.source.rawValue, isSensitive: $0.isSensitive) })
    }

    private enum Shape {
        case success(Int)
        case failure(AdminOutcome)
    }

    /// The partition count, from a manual assignment or from the counts (-1: the broker defaults).
    private func shape(of request: CreateTopicsRequest.CreatableTopic) -> Shape {
        let nodeId = topics.config.nodeId
        if !request.assignments.isEmpty {
            if request.replicationFactor != -1 {
                return .failure(AdminOutcome(.invalidRequest, "A manual partition assignment was specified, but replication factor was not set to -1."))
            }
            if request.numPartitions != -1 {
                return .failure(AdminOutcome(.invalidRequest, "A manual partition assignment was specified, but numPartitions was not set to -1."))
            }
            var indexes = Set<Int32>()
            for assignment in request.assignments {
                guard indexes.insert(assignment.partitionIndex).inserted else {
                    return .failure(AdminOutcome(.invalidReplicaAssignment, "Found multiple manual partition assignments for partition \(assignment.partitionIndex)"))
                }
                let outcome = Self.checkReplicas(assignment.brokerIds, nodeId: nodeId)
                guard outcome.isSuccess else { return .failure(outcome) }
            }
            guard indexes == Set(0..<Int32(indexes.count)) else {
                return .failure(AdminOutcome(.invalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence"))
            }
            return .success(indexes.count)
        }
        if request.replicationFactor < -1 || request.replicationFactor == 0 {
            return .failure(AdminOutcome(.invalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value."))
        }
        if request.numPartitions < -1 || request.numPartitions == 0 {
            return .failure(AdminOutcome(.invalidPartitions, "Number of partitions was set to an invalid non-positive value."))
        }
        let defaultFactor = Int(topics.config.properties["default.replication.factor"] ?? "1") ?? 1
        let factor = request.replicationFactor == -1 ? defaultFactor : Int(request.replicationFactor)
        if factor != 1 {
            return .failure(AdminOutcome(.invalidReplicationFactor, "Unable to replicate the partition \(factor) time(s): The target replication factor of \(factor) cannot be reached because only 1 broker(s) are registered."))
        }
        let count = request.numPartitions == -1 ? topics.config.numPartitions : Int(request.numPartitions)
        guard count <= TopicManager.maximumPartitions else {
            return .failure(AdminOutcome(.invalidPartitions, "Number of partitions \(count) is more than portaskd serves per topic (\(TopicManager.maximumPartitions))."))
        }
        return .success(count)
    }

    /// Kafka's check of one partition's manual replica list, for a cluster of this broker alone.
    static func checkReplicas(_ brokerIds: [Int32], nodeId: Int32) -> AdminOutcome {
        if brokerIds.isEmpty {
            return AdminOutcome(.invalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
        }
        for broker in brokerIds.sorted() where broker != nodeId {
            return AdminOutcome(.invalidReplicaAssignment, "The manual partition assignment includes broker \(broker), but no such broker is registered.")
        }
        if brokerIds.count > 1 {
            return AdminOutcome(.invalidReplicaAssignment, "The manual partition assignment includes the broker \(nodeId) more than once.")
        }
        return .success
    }

    /// Kafka treats '.' and '_' as the same character when checking names for collisions (metric names).
    static func collisionForm(_ name: String) -> String {
        name.replacingOccurrences(of: ".", with: "_")
    }

    static func outcome(_ error: TopicManager.CreateError) -> AdminOutcome {
        switch error {
        case .alreadyExists: return AdminOutcome(.topicAlreadyExists, "Topic already exists.")
        case .invalidName(let reason): return AdminOutcome(.invalidTopicException, reason)
        case .invalidPartitions(let reason): return AdminOutcome(.invalidPartitions, reason)
        case .invalidConfig(let reason): return AdminOutcome(.invalidConfig, reason)
        case .autoCreateDisabled: return AdminOutcome(.invalidRequest, "Topic creation is disabled.")
        case .storage(let reason): return AdminOutcome(.kafkaStorageError, reason)
        case .metadataUnavailable(let reason): return AdminOutcome(.requestTimedOut, reason)
        }
    }
}
