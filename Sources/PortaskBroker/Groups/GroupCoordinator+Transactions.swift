import KafkaProtocol
import LogEngine
import NIOCore

/// Offsets committed inside a transaction (TxnOffsetCommit): written to `__consumer_offsets` at once, as a
/// transactional batch of the producer, and held pending until the transaction's marker: a commit marker makes
/// them the group's committed offsets, an abort marker drops them (Kafka's pending transactional offsets).
/// Meanwhile OffsetFetch with `requireStable` answers UNSTABLE_OFFSET_COMMIT for those partitions.
extension GroupCoordinator {
    /// Writes `offsets` of `groupId` for the transaction of `producerId`/`epoch` durably, then holds them pending.
    func commitTransactionalOffsets(
        groupId: String, producerId: Int64, producerEpoch: Int16, offsets: [TopicPartition: CommittedOffset]
    ) async -> KafkaErrorCode {
        guard !offsets.isEmpty else { return .noError }
        guard let offsetsTopic else { return .coordinatorNotAvailable }
        guard group(groupId) != nil || groupCreatingIfRoom(groupId) != nil else { return .coordinatorNotAvailable }
        let records = offsets.map { GroupRecord.offset(group: groupId, partition: $0.key, value: $0.value) }
        do {
            try await offsetsTopic.appendTransactional(
                records, groupId: groupId, producerId: producerId, producerEpoch: producerEpoch)
        } catch {
            return GroupRecord.errorCode(forWriteFailure: error, commit: true)
        }
        pendingTransactionalOffsets.withLockedValue { pending in
            pending[producerId, default: [:]][groupId, default: [:]].merge(offsets) { _, new in new }
        }
        return .noError
    }

    /// TxnOffsetCommit's member check (v3+ carries generation, member id and group instance id; older versions
    /// send -1, "" and null, which always pass), as Kafka's group coordinator validates a transactional commit:
    /// a generation < 0 passes while the group is empty or absent; otherwise the member must exist
    /// (UNKNOWN_MEMBER_ID), a static member must be the instance's current one (FENCED_INSTANCE_ID) and the
    /// generation or member epoch must be current (ILLEGAL_GENERATION, also for a consumer group's stale epoch).
    /// An absent group with a generation >= 0 is ILLEGAL_GENERATION.
    func validateTransactionalCommit(
        groupId: String, memberId: String, groupInstanceId: String?, generationId: Int32
    ) async -> KafkaErrorCode {
        if let consumer = consumerGroup(groupId) {
            let empty = await consumer.members.isEmpty
            if !empty || generationId >= 0 {
                if empty || memberId.isEmpty { return .unknownMemberId }
                let error = await consumer.validate(memberId: memberId, memberEpoch: generationId)
                return error == .staleMemberEpoch ? .illegalGeneration : error
            }
        }
        guard let classic = group(groupId) else { return generationId < 0 ? .noError : .illegalGeneration }
        return await classic.validateTransactionalCommit(
            memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId)
    }

    /// The producer's transaction ended (its marker is durable in `__consumer_offsets`): applies or drops its
    /// pending offsets.
    func completeTransaction(producerId: Int64, commit: Bool) async {
        let held = pendingTransactionalOffsets.withLockedValue { $0.removeValue(forKey: producerId) } ?? [:]
        guard commit else { return }
        for (groupId, offsets) in held {
            await groupCreatingIfMissing(groupId).applyCommittedOffsets(offsets)
        }
    }

    /// Whether a transaction not yet ended holds an offset of `partition` for `groupId`.
    func hasPendingTransactionalOffset(groupId: String, partition: TopicPartition) -> Bool {
        pendingTransactionalOffsets.withLockedValue { pending in
            pending.values.contains { $0[groupId]?[partition] != nil }
        }
    }

    /// Whether a transaction not yet ended holds any offset for `groupId`.
    func hasPendingTransactionalOffsets(groupId: String) -> Bool {
        pendingTransactionalOffsets.withLockedValue { pending in pending.values.contains { $0[groupId] != nil } }
    }

    /// The pending offsets found at load (transactional records without a marker yet).
    func restorePendingTransactionalOffsets(_ records: [Int64: [GroupRecord]]) {
        pendingTransactionalOffsets.withLockedValue { pending in
            for (producerId, list) in records {
                for case .offset(let group, let partition, let value?) in list {
                    pending[producerId, default: [:]][group, default: [:]][partition] = value
                }
            }
        }
    }
}

extension ClassicGroup {
    /// Kafka's `validateOffsetCommit` for a transactional commit: the group's state is not enforced, a request
    /// without member id, generation and instance id passes, as does generation < 0 while the group is empty.
    func validateTransactionalCommit(memberId: String, groupInstanceId: String?, generationId requested: Int32)
        -> KafkaErrorCode
    {
        if state == .dead { return .coordinatorNotAvailable }
        if requested < 0 && state == .empty { return .noError }
        guard requested >= 0 || !memberId.isEmpty || groupInstanceId != nil else { return .noError }
        if let groupInstanceId {
            guard let current = staticMembers[groupInstanceId] else { return .unknownMemberId }
            if current != memberId { return .fencedInstanceId }
        }
        guard members[memberId] != nil else { return .unknownMemberId }
        return requested == generationId ? .noError : .illegalGeneration
    }

    /// Offsets that are already durable (a transaction's, at its commit marker) become committed offsets.
    func applyCommittedOffsets(_ committed: [TopicPartition: CommittedOffset]) {
        offsets.merge(committed) { _, new in new }
    }
}

extension OffsetsTopic {
    /// Appends `records` of `groupId` as a transactional batch of `producerId`/`producerEpoch` (no sequence, as
    /// Kafka's coordinator writes them) and returns once durable.
    func appendTransactional(
        _ records: [GroupRecord], groupId: String, producerId: Int64, producerEpoch: Int16
    ) async throws {
        try ensureCreated()
        let index = Self.partition(for: groupId, count: partitions)
        guard let log = topics.partition(Self.name, index) else {
            throw BrokerError(.io, "no log for \(Self.name)-\(index)")
        }
        let encoded = try records.map { record in
            RecordBatchEncoder.Record(
                key: Array(try record.key().readableBytesView),
                value: try record.value().map { Array($0.readableBytesView) })
        }
        var encoder = RecordBatchEncoder(baseOffset: 0, baseTimestamp: clock())
        encoder.attributes = 0x10
        encoder.producerId = producerId
        encoder.producerEpoch = producerEpoch
        let info = try log.append(ByteBuffer(bytes: try encoder.encode(encoded)), origin: .broker)
        try await log.waitUntilDurable(info.lastOffset + 1)
    }
}
