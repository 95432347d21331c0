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
    /// (created on first use, within `group.max.count`) answers. What the group's records cannot hold is refused
    /// before anything changes: a group id longer than Kafka's int16 strings gets INVALID_GROUP_ID, such a member
    /// id, instance id, rack id, topic name, regex, assignor, client id or host INVALID_REQUEST.
    func consumerHeartbeat(groupId: String, _ input: ConsumerHeartbeatInput) async -> ConsumerHeartbeatOutcome {
        guard GroupRecord.fits(groupId) else {
            return ConsumerHeartbeatOutcome(error: .invalidGroupId, message: "GroupId is longer than 32767 bytes.")
        }
        if let field = Self.unstorableField(input) {
            return ConsumerHeartbeatOutcome(error: .invalidRequest, message: "\(field) is longer than 32767 bytes.")
        }
        if let classic = group(groupId), await !classic.members.isEmpty {
            return ConsumerHeartbeatOutcome(error: .groupIdNotFound, message: "Group \(groupId) is not a consumer group.")
        }
        guard let topics else { return ConsumerHeartbeatOutcome(error: .coordinatorNotAvailable) }
        guard let group = consumerGroupCreatingIfRoom(groupId, topics: topics) else {
            return ConsumerHeartbeatOutcome(
                error: .coordinatorNotAvailable, message: "The coordinator holds group.max.count groups.")
        }
        return await group.heartbeat(input)
    }

    /// The first field of a heartbeat that a `ConsumerGroupRecord` could not hold, by its request name.
    static func unstorableField(_ input: ConsumerHeartbeatInput) -> String? {
        let fields: [(String, String?)] = [
            ("MemberId", input.memberId), ("InstanceId", input.instanceId), ("RackId", input.rackId),
            ("SubscribedTopicRegex", input.subscribedTopicRegex), ("ServerAssignor", input.serverAssignor),
            ("ClientId", input.clientId), ("ClientHost", input.clientHost),
        ]
        if let (name, _) = fields.first(where: { !GroupRecord.fits($0.1) }) { return name }
        if input.subscribedTopicNames?.contains(where: { !GroupRecord.fits($0) }) == true { return "SubscribedTopicNames" }
        return nil
    }

    /// Restores `consumer`-protocol groups from their latest records (replayed in log order by the caller).
    func restoreConsumerGroups(_ records: [String: [ConsumerGroupRecord]]) async {
        guard let topics else { return }
        for (groupId, groupRecords) in records.sorted(by: { $0.key < $1.key }) where !groupRecords.isEmpty {
            let group = ConsumerGroup(
                groupId: groupId, timers: timers, topics: topics, sessionTimeoutMs: config.consumerSessionTimeoutMs,
                heartbeatIntervalMs: config.consumerHeartbeatIntervalMs, maxSize: config.consumerGroupMaxSize,
                store: store)
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
