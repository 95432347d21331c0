import KafkaProtocol

extension GroupCoordinator {
    /// The share group, if it exists.
    func shareGroup(_ groupId: String) -> ShareGroup? {
        shareGroups.withLockedValue { $0[groupId] }
    }

    /// ShareGroupHeartbeat: refused for ids a classic or `consumer` group uses; otherwise the share group
    /// (created on first use, within `group.max.count`) answers.
    func shareHeartbeat(groupId: String, _ input: ShareHeartbeatInput) async -> ShareHeartbeatOutcome {
        guard GroupRecord.fits(groupId) else {
            return ShareHeartbeatOutcome(error: .invalidGroupId, message: "GroupId is longer than 32767 bytes.")
        }
        let fields: [String?] = [input.memberId, input.rackId, input.clientId, input.clientHost]
            + (input.subscribedTopicNames ?? []).map { Optional($0) }
        guard fields.allSatisfy({ GroupRecord.fits($0) }) else {
            return ShareHeartbeatOutcome(error: .invalidRequest, message: "A string of the request is longer than 32767 bytes.")
        }
        if group(groupId) != nil || consumerGroup(groupId) != nil {
            return ShareHeartbeatOutcome(error: .groupIdNotFound, message: "Group \(groupId) is not a share group.")
        }
        guard let topics else { return ShareHeartbeatOutcome(error: .coordinatorNotAvailable) }
        guard let group = shareGroupCreatingIfRoom(groupId, topics: topics) else {
            return ShareHeartbeatOutcome(error: .coordinatorNotAvailable, message: "The coordinator holds group.max.count groups.")
        }
        return await group.heartbeat(input)
    }

    /// The share group, created when missing and `group.max.count` leaves room (at start-up every stored group
    /// is kept, as for the other group types).
    func shareGroupCreatingIfRoom(_ groupId: String, topics: TopicManager, atStartUp: Bool = false) -> ShareGroup? {
        let others = allGroups().count + consumerGroups.withLockedValue { $0.count }
        let partitions = sharePartitions
        let sessions = shareSessions
        let groupConfigs = groupConfigs
        return shareGroups.withLockedValue { groups -> ShareGroup? in
            if let existing = groups[groupId] { return existing }
            guard atStartUp || others + groups.count < config.groupMaxCount else { return nil }
            let group = ShareGroup(
                groupId: groupId, timers: timers, topics: topics, sessionTimeoutMs: config.shareSessionTimeoutMs,
                maxSize: config.shareGroupMaxSize, store: store, groupConfigs: groupConfigs
            ) { memberId in
                sessions.remove(.init(groupId: groupId, memberId: memberId))
                partitions.releaseAll(groupId: groupId, memberId: memberId)
            }
            groups[groupId] = group
            return group
        }
    }

    /// Restores share groups from their latest records in `__consumer_offsets` (replayed in log order by the
    /// caller), before their share partitions are loaded.
    func restoreShareGroups(_ records: [String: [ShareGroupRecord]]) async {
        guard let topics else { return }
        for (groupId, groupRecords) in records.sorted(by: { $0.key < $1.key }) where !groupRecords.isEmpty {
            guard let group = shareGroupCreatingIfRoom(groupId, topics: topics, atStartUp: true) else { continue }
            await group.restore(groupRecords)
        }
        if !records.isEmpty { logger.info("loaded share groups", metadata: ["shareGroups": "\(records.count)"]) }
    }

    /// Loads the share partitions' delivery states from `__share_group_state` (start-up).
    func restoreSharePartitions() {
        guard let store = sharePartitions.store, let topics else { return }
        var report = OffsetsTopicLoadReport()
        let settings = sharePartitions.settings
        let stored = store.loadAll(deliveryLimit: settings.deliveryLimit, maxRecordLocks: settings.maxRecordLocks, &report)
        if !report.isEmpty {
            logger.warning("skipped unreadable \(ShareStateTopic.name) data; everything else was loaded", metadata: [
                "skippedRecords": "\(report.skippedRecords)", "unreadablePartitions": "\(report.unreadablePartitions)",
                "firstProblems": "\(report.problems.joined(separator: "; "))",
            ])
        }
        let restored = sharePartitions.restore(stored, topics: topics)
        // A share group with stored delivery state exists (empty) until its members return or it is deleted.
        for groupId in Set(stored.map(\.key.groupId)).sorted() {
            _ = shareGroupCreatingIfRoom(groupId, topics: topics, atStartUp: true)
        }
        if restored > 0 { logger.info("loaded share partitions", metadata: ["sharePartitions": "\(restored)"]) }
    }

    /// DeleteGroups for a share group: only an empty one; its share partitions and its group configs go with it.
    func deleteShareGroup(_ groupId: String, _ group: ShareGroup) async -> KafkaErrorCode {
        guard await group.markDeleted() else { return .nonEmptyGroup }
        shareGroups.withLockedValue { groups in
            if groups[groupId] === group { groups.removeValue(forKey: groupId) }
        }
        do {
            try await group.deleteRecords()
            try await sharePartitions.removeAll(groupId: groupId)
            try groupConfigs.remove(groupId: groupId)
        } catch {
            return .coordinatorNotAvailable
        }
        return .noError
    }
}
