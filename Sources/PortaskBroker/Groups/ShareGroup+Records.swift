import KafkaProtocol
import LogEngine

extension ShareGroup {
    /// The group's state as records, by key name.
    func currentRecords() -> [String: ShareGroupRecord] {
        var records: [ShareGroupRecord] = [
            .groupEpoch(group: groupId, epoch: groupEpoch), .targetEpoch(group: groupId, epoch: assignmentEpoch),
        ]
        for (id, member) in members {
            records.append(.member(group: groupId, memberId: id, .init(
                rackId: member.rackId, clientId: member.clientId, clientHost: member.clientHost,
                subscribedTopicNames: member.subscribedTopics)))
            let assigned = topicIds(member.assigned)
            records.append(.target(group: groupId, memberId: id, topicIds(targetAssignment(for: member))))
            records.append(.current(group: groupId, memberId: id, .init(
                memberEpoch: member.memberEpoch, previousMemberEpoch: member.previousMemberEpoch, state: 1,
                assigned: assigned)))
        }
        return Dictionary(records.map { ($0.keyName, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The records that changed since the last write (tombstones for what disappeared); remembers them as written.
    func takeChanges() -> [GroupRecord] {
        let current = currentRecords()
        var changes: [GroupRecord] = []
        for (key, record) in current.sorted(by: { $0.key < $1.key }) where persisted[key] != record {
            changes.append(.share(record))
        }
        for (key, record) in persisted.sorted(by: { $0.key < $1.key }) where current[key] == nil {
            changes.append(.share(record.tombstone))
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

    /// Tombstones for every record of the group (DeleteGroups).
    func deleteRecords() async throws {
        let tombstones = persisted.values.sorted { $0.keyName < $1.keyName }.map { GroupRecord.share($0.tombstone) }
        persisted = [:]
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

    /// Rebuilds the group from its latest records at start-up and restarts the members' sessions (a member that
    /// does not come back within the session timeout is removed, as after any missed heartbeat).
    func restore(_ records: [ShareGroupRecord]) {
        for record in records {
            switch record {
            case .groupEpoch(_, let epoch?): groupEpoch = epoch
            case .targetEpoch(_, let epoch?): assignmentEpoch = epoch
            case .member(_, let id, let value?):
                var member = Member(
                    memberId: id, rackId: value.rackId, clientId: value.clientId, clientHost: value.clientHost)
                member.subscribedTopics = Array(Set(value.subscribedTopicNames)).sorted()
                members[id] = member
            default: break
            }
        }
        for record in records {
            if case .current(_, let id, let value?) = record, members[id] != nil {
                members[id]?.memberEpoch = value.memberEpoch
                members[id]?.previousMemberEpoch = value.previousMemberEpoch
                members[id]?.assigned = partitions(value.assigned)
            }
        }
        var counts: [String: Int] = [:]
        for name in Set(members.values.flatMap(\.subscribedTopics)) {
            if let topic = topics.topic(named: name) { counts[name] = topic.partitionCount }
        }
        partitionCounts = counts
        persisted = currentRecords()
        for id in members.keys { scheduleSessionExpiry(id) }
    }
}
