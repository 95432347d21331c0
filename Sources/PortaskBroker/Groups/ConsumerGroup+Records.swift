import KafkaProtocol
import LogEngine

extension ConsumerGroup {
    /// The group's state as records, by key name.
    func currentRecords() -> [String: ConsumerGroupRecord] {
        var records: [ConsumerGroupRecord] = [
            .groupEpoch(group: groupId, epoch: groupEpoch), .targetEpoch(group: groupId, epoch: assignmentEpoch),
        ]
        for (id, member) in members {
            records.append(.member(group: groupId, memberId: id, .init(
                instanceId: member.instanceId, rackId: member.rackId, clientId: member.clientId,
                clientHost: member.clientHost, subscribedTopicNames: member.subscriptionNames ?? member.subscribedTopics,
                subscribedTopicRegex: member.subscriptionRegex, rebalanceTimeoutMs: member.rebalanceTimeoutMs,
                serverAssignor: member.serverAssignor)))
            let target = targetAssignment[id] ?? []
            records.append(.target(group: groupId, memberId: id, topicIds(target)))
            let state: Int8 = !member.pendingRevocation.isEmpty ? 2 : member.assigned != target ? 3 : 1
            records.append(.current(group: groupId, memberId: id, .init(
                memberEpoch: member.memberEpoch, previousMemberEpoch: member.previousMemberEpoch, state: state,
                assigned: topicIds(member.assigned), pendingRevocation: topicIds(member.pendingRevocation))))
        }
        return Dictionary(records.map { ($0.keyName, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The records that changed since the last write (tombstones for what disappeared); remembers them as written.
    func takeChanges() -> [GroupRecord] {
        let current = currentRecords()
        var changes: [GroupRecord] = []
        for (key, record) in current.sorted(by: { $0.key < $1.key }) where persisted[key] != record {
            changes.append(.consumer(record))
        }
        for (key, record) in persisted.sorted(by: { $0.key < $1.key }) where current[key] == nil {
            changes.append(.consumer(record.tombstone))
        }
        persisted = current
        return changes
    }

    /// Writes the changes durably, after every earlier write of the group.
    func persistChanges() async throws {
        try await enqueue(takeChanges()).value
    }

    func persistInBackground() {
        _ = enqueue(takeChanges())
    }

    /// Tombstones for every record of the group (DeleteGroups, expiry).
    func deleteRecords() async throws {
        let tombstones = persisted.values.map { GroupRecord.consumer($0.tombstone) }
        persisted = [:]
        isDead = true
        try await enqueue(tombstones).value
    }

    private func enqueue(_ records: [GroupRecord]) -> Task<Void, any Error> {
        let previous = lastWrite
        let store = store
        let groupId = groupId
        let write = Task {
            _ = await previous?.result
            guard let store, !records.isEmpty else { return }
            try await store.append(records, groupId: groupId)
        }
        lastWrite = write
        return write
    }

    func topicIds(_ partitions: Set<TopicPartition>) -> [ConsumerGroupRecord.TopicIds] {
        Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }.compactMap { name, entries in
            topics.topic(named: name).map { .init(topicId: $0.id, partitions: entries.map(\.partition).sorted()) }
        }
    }

    func partitions(_ ids: [ConsumerGroupRecord.TopicIds]) -> Set<TopicPartition> {
        Set(ids.flatMap { entry -> [TopicPartition] in
            guard let topic = topics.topic(id: entry.topicId) else { return [] }
            return entry.partitions.map { TopicPartition(topic.name, $0) }
        })
    }

    /// Rebuilds the group from its latest records at start-up and restarts the members' sessions.
    func restore(_ records: [ConsumerGroupRecord]) {
        for record in records {
            switch record {
            case .groupEpoch(_, let epoch?): groupEpoch = epoch
            case .targetEpoch(_, let epoch?): assignmentEpoch = epoch
            case .member(_, let id, let value?):
                var member = Member(
                    memberId: id, instanceId: value.instanceId, rackId: value.rackId, clientId: value.clientId,
                    clientHost: value.clientHost, rebalanceTimeoutMs: value.rebalanceTimeoutMs)
                member.subscriptionNames = value.subscribedTopicNames
                member.subscriptionRegex = value.subscribedTopicRegex
                member.subscribedTopics = resolveSubscription(names: value.subscribedTopicNames, regex: value.subscribedTopicRegex)
                member.serverAssignor = value.serverAssignor
                members[id] = member
            default: break
            }
        }
        for record in records {
            switch record {
            case .target(_, let id, let value?) where members[id] != nil:
                targetAssignment[id] = partitions(value)
            case .current(_, let id, let value?) where members[id] != nil:
                members[id]?.memberEpoch = value.memberEpoch
                members[id]?.previousMemberEpoch = value.previousMemberEpoch
                members[id]?.assigned = partitions(value.assigned)
                members[id]?.pendingRevocation = partitions(value.pendingRevocation)
            default: break
            }
        }
        let preferred = members.values.compactMap(\.serverAssignor).sorted().first
        assignor = preferred.flatMap(ConsumerGroupAssignor.init(rawValue:)) ?? ConsumerGroupAssignor.defaultAssignor
        subscribedPartitionCounts = currentPartitionCounts()
        persisted = currentRecords()
        for id in members.keys { scheduleSessionExpiry(id) }
    }
}
