import KafkaProtocol

/// Sends a broker's topic changes to the cluster metadata, fenced by the current controller (a change made
/// while the controller changes is tried again with the new one, at most three times), and waits until this
/// broker has applied it. Replicas are placed round-robin over the live brokers. A change the metadata store
/// cannot take (no quorum, unreachable) fails after `timeout` with a message saying so. Calls block their thread
/// (see `TopicChangeRouter`). Thread-safe.
struct ClusterTopicChangeRouter: TopicChangeRouter {
    let node: ClusterNode
    var timeout: Duration = .seconds(15)

    func create(name: String, partitions: Int, configs: [String: String]) throws(TopicManager.CreateError) {
        let factor = Int16(clamping: Int(node.topics.config.properties["default.replication.factor"] ?? "1") ?? 1)
        let outcome: AdminOutcome
        do {
            outcome = try wait {
                let live = node.follower.image.liveBrokerIds
                let outcome = try await fenced { leadership in
                    try await node.clusterTopics.createTopic(
                        name: name, partitions: Int32(clamping: partitions), replicationFactor: factor, configs: configs,
                        liveBrokers: live, leadership: leadership)
                }
                guard outcome.isSuccess || outcome.code == .topicAlreadyExists else { return outcome }
                // An existing topic is reported as such once this broker has applied it too.
                let applied = await node.waitUntilApplied { $0.topics[name] != nil }
                return applied ? outcome : Self.notApplied
            }
        } catch {
            throw .metadataUnavailable(Self.unavailable(error))
        }
        switch outcome.code {
        case .noError: return
        case .topicAlreadyExists: throw .alreadyExists
        case .invalidPartitions, .invalidReplicationFactor: throw .invalidPartitions(outcome.message ?? "")
        default: throw .metadataUnavailable(outcome.message ?? "\(outcome.code)")
        }
    }

    func delete(name: String) throws {
        try check(wait {
            let outcome = try await fenced { try await node.clusterTopics.deleteTopic(name: name, leadership: $0) }
            guard outcome.isSuccess else { return outcome }
            return await node.waitUntilApplied { $0.topics[name] == nil } ? .success : Self.notApplied
        })
    }

    func addPartitions(name: String, count: Int) throws {
        try check(wait {
            let live = node.follower.image.liveBrokerIds
            let outcome = try await fenced {
                try await node.clusterTopics.createPartitions(
                    name: name, totalCount: Int32(clamping: count), liveBrokers: live, leadership: $0)
            }
            guard outcome.isSuccess else { return outcome }
            return await node.waitUntilApplied { ($0.topics[name]?.partitions.count ?? 0) >= count } ? .success : Self.notApplied
        })
    }

    func setConfigs(name: String, configs: [String: String]) throws {
        try check(wait {
            let outcome = try await fenced { try await node.clusterTopics.setConfigs(name: name, configs: configs, leadership: $0) }
            guard outcome.isSuccess else { return outcome }
            return await node.waitUntilApplied { $0.topics[name]?.configs == configs } ? .success : Self.notApplied
        })
    }

    private static let notApplied = AdminOutcome(.requestTimedOut, "The change was made in the cluster metadata but not yet applied here.")

    private func check(_ outcome: AdminOutcome) throws {
        guard !outcome.isSuccess else { return }
        throw BrokerError(.invalidRequest, outcome.message ?? "\(outcome.code)")
    }

    /// Runs `change` fenced by the current controller, again with the new one when it answers NOT_CONTROLLER.
    private func fenced(_ change: (ControllerLeadership) async throws -> AdminOutcome) async throws -> AdminOutcome {
        var last = AdminOutcome(.notController, "The cluster has no controller yet; try again.")
        for attempt in 0..<3 {
            let leadership = attempt == 0 ? try await node.controller() : try await node.registry.currentController()
            guard let leadership else {
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            last = try await change(leadership)
            guard last.code == .notController else { return last }
        }
        return last
    }

    private static func unavailable(_ error: any Error) -> String {
        "The cluster metadata store cannot take the change now: \(error)"
    }

    private func wait(_ body: @escaping @Sendable () async throws -> AdminOutcome) throws -> AdminOutcome {
        try BlockingAwait.run(timeout: timeout, body)
    }
}
