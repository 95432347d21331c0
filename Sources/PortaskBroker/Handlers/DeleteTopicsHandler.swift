import KafkaProtocol

/// DeleteTopics (key 20), versions 0–6: deletes topics by name, and from v6 by topic id, with their partition
/// logs. Unknown names get UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID. Thread-safe.
struct DeleteTopicsHandler: Sendable {
    let topics: TopicManager

    func makeHandler() -> ApiHandler {
        ApiHandler(DeleteTopicsRequest.self, response: DeleteTopicsResponse.self, versions: 0...6, blocking: .always) { request, context in
            self.respond(request, version: context.apiVersion)
        }
    }

    func respond(_ request: DeleteTopicsRequest, version: Int16) -> DeleteTopicsResponse {
        let states: [DeleteTopicsRequest.DeleteTopicState] = version >= 6
            ? request.topics : request.topicNames.map { .init(name: $0) }
        var nameCounts: [String: Int] = [:]
        var idCounts: [KafkaUUID: Int] = [:]
        for state in states {
            if let name = state.name { nameCounts[name, default: 0] += 1 }
            if state.topicId != .zero { idCounts[state.topicId, default: 0] += 1 }
        }
        var answeredNames = Set<String>()
        var answeredIds = Set<KafkaUUID>()
        return DeleteTopicsResponse(throttleTimeMs: 0, responses: states.compactMap { state in
            // One result per name or id, as Kafka answers (one given twice is refused once).
            if let name = state.name, state.topicId == .zero, !answeredNames.insert(name).inserted { return nil }
            if state.name == nil, state.topicId != .zero, !answeredIds.insert(state.topicId).inserted { return nil }
            var result = DeleteTopicsResponse.DeletableTopicResult(name: state.name, errorMessage: nil)
            if version >= 6 { result.topicId = state.topicId }
            let outcome: AdminOutcome
            if state.name != nil && state.topicId != .zero {
                outcome = AdminOutcome(.invalidRequest, "You may not specify both a topic name and a topic id.")
            } else if let name = state.name {
                let topic = topics.topic(named: name)
                if version >= 6, let topic { result.topicId = topic.id }
                outcome = nameCounts[name, default: 0] > 1
                    ? AdminOutcome(.invalidRequest, "Duplicate topic name.") : delete(topic, missing: .unknownTopicOrPartition)
            } else if state.topicId != .zero {
                let topic = topics.topic(id: state.topicId)
                result.name = topic?.name
                outcome = idCounts[state.topicId, default: 0] > 1
                    ? AdminOutcome(.invalidRequest, "Duplicate topic id.") : delete(topic, missing: .unknownTopicId)
            } else {
                outcome = AdminOutcome(.invalidRequest, "Neither topic name nor id were specified.")
            }
            result.errorCode = outcome.code.rawValue
            result.errorMessage = outcome.message
            return result
        })
    }

    private func delete(_ topic: Topic?, missing: KafkaErrorCode) -> AdminOutcome {
        guard let topic else {
            return AdminOutcome(missing, missing == .unknownTopicId ? "This server does not host this topic ID." : "This server does not host this topic-partition.")
        }
        do {
            try topics.delete(name: topic.name)
            return .success
        } catch {
            return topics.topic(named: topic.name) == nil
                ? AdminOutcome(.unknownTopicOrPartition, "This server does not host this topic-partition.")
                : AdminOutcome(.unknownServerError, "\(error)")
        }
    }
}
