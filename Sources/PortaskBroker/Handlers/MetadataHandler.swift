import KafkaProtocol

/// Metadata (key 3): this broker as the only broker and controller, and the requested topics (all when the
/// request's topic list is null), auto-creating missing ones when allowed. Versions 0–13 (v13's top-level error
/// code, KIP-1102, is always NONE: one broker never asks a client to rebootstrap).
struct MetadataHandler: Sendable {
    let cluster: ClusterIdentity
    let topics: TopicManager

    static let authorizedOperationsNotRequested = Int32.min

    func makeHandler() -> ApiHandler {
        ApiHandler(MetadataRequest.self, response: MetadataResponse.self, versions: 0...13, blocking: .always) { request, context in
            // Auto-creation makes files and syncs directories: off the event loop.
            try self.respond(request, version: context.apiVersion)
        }
    }

    func respond(_ request: MetadataRequest, version: Int16) throws -> MetadataResponse {
        var response = MetadataResponse(
            brokers: [.init(nodeId: cluster.nodeId, host: cluster.advertisedHost, port: cluster.advertisedPort)],
            clusterId: cluster.clusterId,
            controllerId: cluster.nodeId,
            clusterAuthorizedOperations: Self.authorizedOperationsNotRequested)
        // Version 0 has no null list: an empty list asks for every topic there.
        let requested: [MetadataRequest.MetadataRequestTopic]? =
            (version == 0 && request.topics?.isEmpty == true) ? nil : request.topics
        guard let requested else {
            response.topics = topics.allTopics().map { describe($0) }
            return response
        }
        let allowCreate = version < 4 || request.allowAutoTopicCreation
        for entry in requested {
            if let name = entry.name, !name.isEmpty {
                if let topic = topics.topic(named: name) {
                    response.topics.append(describe(topic))
                } else if allowCreate, let topic = try? topics.autoCreate(name: name) {
                    response.topics.append(describe(topic))
                } else {
                    let code: KafkaErrorCode = Topic.validate(name: name) == nil
                        ? .unknownTopicOrPartition : .invalidTopicException
                    response.topics.append(.init(errorCode: code.rawValue, name: name, topicAuthorizedOperations: Self.authorizedOperationsNotRequested))
                }
            } else if let topic = topics.topic(id: entry.topicId) {
                response.topics.append(describe(topic))
            } else {
                response.topics.append(.init(
                    errorCode: KafkaErrorCode.unknownTopicId.rawValue, name: nil, topicId: entry.topicId,
                    topicAuthorizedOperations: Self.authorizedOperationsNotRequested))
            }
        }
        return response
    }

    private func describe(_ topic: Topic) -> MetadataResponse.MetadataResponseTopic {
        let node = cluster.nodeId
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
}
