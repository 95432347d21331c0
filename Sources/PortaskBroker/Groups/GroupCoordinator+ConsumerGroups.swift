import KafkaProtocol

extension GroupCoordinator {
    /// The `consumer`-protocol group, if it exists.
    func consumerGroup(_ groupId: String) -> ConsumerGroup? {
        consumerGroups.withLockedValue { $0[groupId] }
    }

    /// Whether a `consumer`-protocol group with members uses this id.
    func hasConsumerMembers(_ groupId: String) async -> Bool {
        guard let group = consumerGroup(groupId) else { return false }
        return await !group.members.isEmpty
    }

    /// ConsumerGroupHeartbeat: refused for ids a classic group with members uses; otherwise the consumer group
    /// (created on first use) answers.
    func consumerHeartbeat(groupId: String, _ input: ConsumerHeartbeatInput) async -> ConsumerHeartbeatOutcome {
        if let classic = group(groupId), await !classic.members.isEmpty {
            return ConsumerHeartbeatOutcome(error: .groupIdNotFound, message: "Group \(groupId) is not a consumer group.")
        }
        guard let topics else { return ConsumerHeartbeatOutcome(error: .coordinatorNotAvailable) }
        let group = consumerGroups.withLockedValue { groups -> ConsumerGroup in
            if let existing = groups[groupId] { return existing }
            let created = ConsumerGroup(
                groupId: groupId, timers: timers, topics: topics, sessionTimeoutMs: config.consumerSessionTimeoutMs,
                heartbeatIntervalMs: config.consumerHeartbeatIntervalMs, store: store)
            groups[groupId] = created
            return created
        }
        return await group.heartbeat(input)
    }

    /// Restores `consumer`-protocol groups from their latest records (replayed in log order by the caller).
    func restoreConsumerGroups(_ records: [String: [ConsumerGroupRecord]]) async {
        guard let topics else { return }
        for (groupId, groupRecords) in records.sorted(by: { $0.key < $1.key }) where !groupRecords.isEmpty {
            let group = ConsumerGroup(
                groupId: groupId, timers: timers, topics: topics, sessionTimeoutMs: config.consumerSessionTimeoutMs,
                heartbeatIntervalMs: config.consumerHeartbeatIntervalMs, store: store)
            await group.restore(groupRecords)
            consumerGroups.withLockedValue { $0[groupId] = group }
        }
    }

    /// Checks an offset commit or fetch made by a member of a `consumer` group; nil when the id has no such
    /// group with members (the classic rules apply then).
    func validateConsumerMember(groupId: String, memberId: String, memberEpoch: Int32) async -> KafkaErrorCode? {
        guard let group = consumerGroup(groupId), await !group.members.isEmpty else { return nil }
        if memberId.isEmpty { return .unknownMemberId }
        return await group.validate(memberId: memberId, memberEpoch: memberEpoch)
    }
}
