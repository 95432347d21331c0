import KafkaProtocol

/// Metadata (key 3): this broker as the only broker and controller, and the requested topics (all when the
/// request's topic list is null), auto-creating missing ones when allowed. Versions 0–13 (v13's top-level error
/// code, KIP-1102, is always NONE: one broker never asks a client to rebootstrap).
struct MetadataHandler: Sendable {
    let cluster: ClusterIdentity
    let topics: TopicManager
    var access = AccessControl()
    /// Cluster mode: the brokers, controller and partition states come from the cluster metadata.
    var routing: ClusterRouting? = nil

    static let authorizedOperationsNotRequested = Int32.min

    func makeHandler() -> ApiHandler {
        ApiHandler(MetadataRequest.self, response: MetadataResponse.self, versions: 0...13, blocking: .always) { request, context in
            // Auto-creation makes files and syncs directories: off the event loop.
            try self.respond(request, version: context.apiVersion, listener: context.listenerName, context: context)
        }
    }

    /// With an authorizer, topics without DESCRIBE are left out of an all-topics answer and answer
    /// TOPIC_AUTHORIZATION_FAILED when named, as does a missing topic that may not be created (CREATE on the
    /// cluster or the topic), as Kafka does. Authorized operations (v8+) are the principal's, when asked for.
    func respond(
        _ request: MetadataRequest, version: Int16, listener: String = "PLAINTEXT", context: RequestContext? = nil
    ) throws -> MetadataResponse {
        func visible(_ name: String) -> Bool {
            context.map { access.allows($0, .describe, .topic, name) } ?? true
        }
        func creatable(_ name: String) -> Bool {
            guard let context else { return true }
            return access.allowsCluster(context, .create) || access.allows(context, .create, .topic, name)
        }
        func refused(_ name: String?) -> MetadataResponse.MetadataResponseTopic {
            .init(errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, name: name,
                  topicAuthorizedOperations: Self.authorizedOperationsNotRequested)
        }
        func operations(_ name: String) -> Int32 {
            guard version >= 8, request.includeTopicAuthorizedOperations else { return Self.authorizedOperationsNotRequested }
            return context.map { access.authorizedOperations($0, .topic, name) } ?? DescribeTopicPartitionsHandler.topicOperations
        }
        func describe(_ topic: Topic) -> MetadataResponse.MetadataResponseTopic {
            var described = self.describe(topic, image: image)
            described.topicAuthorizedOperations = operations(topic.name)
            return described
        }
        let endpoint = cluster.endpoint(for: listener)
        var response = MetadataResponse(
            brokers: [.init(nodeId: cluster.nodeId, host: endpoint.host, port: endpoint.port)],
            clusterId: cluster.clusterId,
            controllerId: cluster.nodeId,
            clusterAuthorizedOperations: Self.authorizedOperationsNotRequested)
        let image = routing?.image
        if let routing, let image {
            response.brokers = image.liveBrokerIds.compactMap { node in
                guard let endpoint = routing.endpoint(of: node, listener: listener) else { return nil }
                return .init(nodeId: node, host: endpoint.host, port: endpoint.port, rack: image.brokers[node]?.registration.rack)
            }
            response.controllerId = image.controller?.nodeId ?? -1
        }
        if (8...10).contains(version), request.includeClusterAuthorizedOperations {
            // As Kafka: without DESCRIBE on the cluster the client is told of no operation.
            response.clusterAuthorizedOperations = context.map {
                access.allowsCluster($0, .describe) ? access.clusterAuthorizedOperations($0) : 0
            } ?? DescribeClusterHandler.clusterOperations
        }
        // Version 0 has no null list: an empty list asks for every topic there.
        let requested: [MetadataRequest.MetadataRequestTopic]? =
            (version == 0 && request.topics?.isEmpty == true) ? nil : request.topics
        guard let requested else {
            response.topics = topics.allTopics().filter { visible($0.name) }.map { describe($0) }
            return response
        }
        let allowCreate = version < 4 || request.allowAutoTopicCreation
        for entry in requested {
            if let name = entry.name, !name.isEmpty {
                if !visible(name) {
                    response.topics.append(refused(name))
                } else if let topic = topics.topic(named: name) {
                    response.topics.append(describe(topic))
                } else if allowCreate, topics.config.autoCreateTopics, !creatable(name) {
                    response.topics.append(refused(name))
                } else if allowCreate, let topic = try? topics.autoCreate(name: name) {
                    response.topics.append(describe(topic))
                } else {
                    let code: KafkaErrorCode = Topic.validate(name: name) == nil
                        ? .unknownTopicOrPartition : .invalidTopicException
                    response.topics.append(.init(errorCode: code.rawValue, name: name, topicAuthorizedOperations: Self.authorizedOperationsNotRequested))
                }
            } else if let topic = topics.topic(id: entry.topicId) {
                response.topics.append(visible(topic.name) ? describe(topic) : refused(nil))
            } else {
                response.topics.append(.init(
                    errorCode: KafkaErrorCode.unknownTopicId.rawValue, name: nil, topicId: entry.topicId,
                    topicAuthorizedOperations: Self.authorizedOperationsNotRequested))
            }
        }
        return response
    }

    private func describe(_ topic: Topic, image: MetadataImage?) -> MetadataResponse.MetadataResponseTopic {
        let node = cluster.nodeId
        if let image, let states = image.topics[topic.name]?.partitions {
            return .init(
                errorCode: KafkaErrorCode.noError.rawValue, name: topic.name, topicId: topic.id, isInternal: topic.isInternal,
                partitions: states.enumerated().map { index, state in
                    Self.describe(partition: Int32(index), state, live: image.brokers)
                },
                topicAuthorizedOperations: Self.authorizedOperationsNotRequested)
        }
        return .init(
            errorCode: KafkaErrorCode.noError.rawValue,
            name: topic.name,
            topicId: topic.id,
            isInternal: topic.isInternal,
            partitions: (0..<Int32(topic.partitionCount)).map {
                .init(partitionIndex: $0, leaderId: node, leaderEpoch: 0, replicaNodes: [node], isrNodes: [node])
            },
            topicAuthorizedOperations: Self.authorizedOperationsNotRequested)
    }

    /// A partition as Kafka describes it: a leader that is not a live broker is none (LEADER_NOT_AVAILABLE);
    /// replicas of brokers that are not live are offline.
    static func describe(
        partition: Int32, _ state: ClusterPartitionState, live: [Int32: RegisteredBroker]
    ) -> MetadataResponse.MetadataResponsePartition {
        let leaderLive = state.leader >= 0 && live[state.leader] != nil
        return .init(
            errorCode: (leaderLive ? KafkaErrorCode.noError : .leaderNotAvailable).rawValue, partitionIndex: partition,
            leaderId: leaderLive ? state.leader : -1, leaderEpoch: state.leaderEpoch, replicaNodes: state.replicas,
            isrNodes: state.isr.filter { live[$0] != nil }, offlineReplicas: state.replicas.filter { live[$0] == nil })
    }
}
