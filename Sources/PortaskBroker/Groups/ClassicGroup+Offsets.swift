import KafkaProtocol
import LogEngine
import NIOCore

extension ClassicGroup {
    /// OffsetCommit: checks the committer against the group (simple commits with generation < 0 only while the
    /// group is empty), writes the offsets to `__consumer_offsets` and applies them once durable.
    func commit(
        memberId: String, groupInstanceId: String?, generationId requested: Int32,
        offsets newOffsets: [TopicPartition: CommittedOffset]
    ) async -> KafkaErrorCode {
        if state == .dead { return .coordinatorNotAvailable }
        let simple = requested < 0 && memberId.isEmpty && groupInstanceId == nil
        if !(simple && state == .empty) {
            if isStaticMemberFenced(memberId: memberId, groupInstanceId: groupInstanceId) { return .fencedInstanceId }
            guard members[memberId] != nil else { return .unknownMemberId }
            guard requested == generationId else { return .illegalGeneration }
            if state == .completingRebalance { return .rebalanceInProgress }
            scheduleHeartbeatExpiry(memberId)
        }
        let records = newOffsets.map { GroupRecord.offset(group: groupId, partition: $0.key, value: $0.value) }
        do {
            try await persist(records)
        } catch {
            return GroupRecord.errorCode(forWriteFailure: error, commit: true)
        }
        guard state != .dead else { return .coordinatorNotAvailable }
        offsets.merge(newOffsets) { _, new in new }
        return .noError
    }

    /// The committed offsets of `partitions`, or of every partition with a commit when `partitions` is nil.
    func committed(_ partitions: [TopicPartition]?) -> [(TopicPartition, CommittedOffset?)] {
        guard let partitions else { return offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        return partitions.map { ($0, offsets[$0]) }
    }

    /// The topics the members' consumer subscriptions name (consumer protocol groups only).
    func subscribedTopics() -> Set<String>? {
        guard protocolType == "consumer", state != .empty else { return nil }
        var topics = Set<String>()
        for member in members.values {
            var metadata = member.metadata(for: protocolName)
            guard let version = metadata.readInteger(as: Int16.self),
                  let subscription = try? ConsumerProtocolSubscription(
                      from: &metadata, version: min(max(version, 0), ConsumerProtocolSubscription.validVersions.upperBound))
            else { return nil }
            topics.formUnion(subscription.topics)
        }
        return topics
    }

    /// OffsetDelete: removes offsets of partitions the group is not consuming. Returns the group-level error and
    /// one error per partition.
    func deleteOffsets(_ partitions: [TopicPartition]) async -> (KafkaErrorCode, [TopicPartition: KafkaErrorCode]) {
        if state == .dead { return (.groupIdNotFound, [:]) }
        let subscribed: Set<String>
        if state == .empty {
            subscribed = []
        } else if let topics = subscribedTopics() {
            subscribed = topics
        } else {
            return (.nonEmptyGroup, [:])
        }
        var errors: [TopicPartition: KafkaErrorCode] = [:]
        var deleting: [TopicPartition] = []
        for partition in partitions {
            if subscribed.contains(partition.topic) {
                errors[partition] = .groupSubscribedToTopic
            } else {
                errors[partition] = .noError
                if offsets[partition] != nil { deleting.append(partition) }
            }
        }
        do {
            try await persist(deleting.map { .offset(group: groupId, partition: $0, value: nil) })
        } catch {
            return (.coordinatorNotAvailable, [:])
        }
        for partition in deleting { offsets.removeValue(forKey: partition) }
        return (.noError, errors)
    }

    /// Removes offsets past retention (`offsets.retention.minutes`), as Kafka does: every offset of an empty
    /// group once that long has passed since it became empty; offsets of a group without a protocol that long
    /// after their commit; in a stable consumer group, offsets of topics no member subscribes to that long after
    /// their commit. An explicit expiry time (OffsetCommit v1–v4) wins. Returns true when the group is empty
    /// without offsets and was marked Dead (to be dropped).
    func expireOffsets(now: Int64) async -> Bool {
        let retention = config.offsetsRetentionMs
        let base: (CommittedOffset) -> Int64
        var keep = Set<String>()
        switch (protocolType ?? "", state) {
        case ("", _):
            base = { $0.commitTimestamp }
        case (_, .empty):
            let since = stateTimestamp
            base = { _ in since }
        case ("consumer", .stable):
            guard let topics = subscribedTopics() else { return false }
            keep = topics
            base = { $0.commitTimestamp }
        default:
            return false
        }
        let expired = offsets.filter { partition, value in
            guard !keep.contains(partition.topic) else { return false }
            if let expire = value.expireTimestamp { return now >= expire }
            // Timestamps come from requests (v1 commit timestamps) and records: saturate, never trap.
            return now.saturatingSubtract(base(value)) >= retention
        }.map(\.key)
        var records = expired.map { GroupRecord.offset(group: groupId, partition: $0, value: nil) }
        let removable = state == .empty && offsets.count == expired.count
        if removable { records.append(.metadata(group: groupId, value: nil)) }
        guard !records.isEmpty else { return false }
        do {
            try await persist(records)
        } catch {
            return false
        }
        for partition in expired { offsets.removeValue(forKey: partition) }
        if removable && state == .empty && offsets.isEmpty {
            transition(to: .dead)
            return true
        }
        return false
    }

    /// DeleteGroups for this group: only an empty group is deleted; tombstones for its offsets and metadata are
    /// written and the group becomes Dead.
    func delete() async -> KafkaErrorCode {
        switch state {
        case .dead: return .groupIdNotFound
        case .empty: break
        default: return .nonEmptyGroup
        }
        transition(to: .dead)
        var records = offsets.keys.map { GroupRecord.offset(group: groupId, partition: $0, value: nil) }
        records.append(.metadata(group: groupId, value: nil))
        do {
            try await persist(records)
        } catch {
            transition(to: .empty)
            return .coordinatorNotAvailable
        }
        offsets.removeAll()
        return .noError
    }
}
