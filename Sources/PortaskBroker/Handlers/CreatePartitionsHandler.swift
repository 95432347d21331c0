import KafkaProtocol

/// CreatePartitions (key 37), versions 0–3: grows topics to a larger partition count, with Kafka's
/// INVALID_PARTITIONS messages when the count does not grow, and INVALID_REPLICA_ASSIGNMENT unless a manual
/// assignment places each new partition on this broker alone. validateOnly checks without creating.
/// With an authorizer a topic needs ALTER, else TOPIC_AUTHORIZATION_FAILED. Thread-safe.
struct CreatePartitionsHandler: Sendable {
    let topics: TopicManager
    var access = AccessControl()

    func makeHandler() -> ApiHandler {
        ApiHandler(CreatePartitionsRequest.self, response: CreatePartitionsResponse.self, versions: 0...3, blocking: .always) { request, context in
            self.respond(request) { self.access.allows(context, .alter, .topic, $0) }
        }
    }

    func respond(_ request: CreatePartitionsRequest, allowed: (String) -> Bool = { _ in true }) -> CreatePartitionsResponse {
        var counts: [String: Int] = [:]
        for topic in request.topics { counts[topic.name, default: 0] += 1 }
        var answered = Set<String>()
        return CreatePartitionsResponse(throttleTimeMs: 0, results: request.topics.compactMap { topic in
            guard answered.insert(topic.name).inserted else { return nil }
            let outcome = counts[topic.name, default: 0] > 1
                ? AdminOutcome(.invalidRequest, "Duplicate topic name.")
                : !allowed(topic.name) ? AdminOutcome(.topicAuthorizationFailed, "The topic authorization is failed.")
                : grow(topic, validateOnly: request.validateOnly)
            return .init(name: topic.name, errorCode: outcome.code.rawValue, errorMessage: outcome.message)
        })
    }

    private func grow(_ request: CreatePartitionsRequest.CreatePartitionsTopic, validateOnly: Bool) -> AdminOutcome {
        guard let topic = topics.topic(named: request.name) else {
            return AdminOutcome(.unknownTopicOrPartition, "This server does not host this topic-partition.")
        }
        let current = topic.partitionCount
        let count = Int(request.count)
        if count == current {
            return AdminOutcome(.invalidPartitions, "Topic already has \(current) partition(s).")
        }
        if count < current {
            return AdminOutcome(.invalidPartitions, "The topic \(topic.name) currently has \(current) partition(s); \(count) would not be an increase.")
        }
        if count > TopicManager.maximumPartitions {
            return AdminOutcome(.invalidPartitions, "Number of partitions \(count) is more than portaskd serves per topic (\(TopicManager.maximumPartitions)).")
        }
        if let assignments = request.assignments {
            let additional = count - current
            guard assignments.count == additional else {
                return AdminOutcome(.invalidReplicaAssignment, "Attempted to add \(additional) additional partition(s), but only \(assignments.count) assignment(s) were specified.")
            }
            for assignment in assignments {
                let outcome = CreateTopicsHandler.checkReplicas(assignment.brokerIds, nodeId: topics.config.nodeId)
                guard outcome.isSuccess else { return outcome }
            }
        }
        if validateOnly { return .success }
        do {
            try topics.addPartitions(name: topic.name, count: count)
            return .success
        } catch {
            return AdminOutcome(.unknownServerError, "\(error)")
        }
    }
}
