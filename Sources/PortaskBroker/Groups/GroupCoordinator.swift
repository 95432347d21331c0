import KafkaProtocol
import LogEngine
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The group coordinator: this broker coordinates every group. Holds one `ClassicGroup` actor per group id,
/// loads groups and offsets from `__consumer_offsets` at start-up and expires old offsets periodically.
///
/// Bounds: `group.max.count` groups (classic and `consumer` together; a request that would create one more
/// gets COORDINATOR_NOT_AVAILABLE, groups loaded at start-up are all kept), `group.max.size` and
/// `group.consumer.max.size` members per group.
///
/// Thread-safe: the group maps sit behind locks held only for lookups and insertions (when both are held, the
/// classic map's is taken first); all group state lives in the group actors.
public final class GroupCoordinator: Sendable {
    let config: GroupCoordinatorConfig
    let timers: GroupTimers
    let store: GroupStore
    let offsetsTopic: OffsetsTopic?
    let logger: Logger
    /// The topics, for the consumer protocol's assignors; nil in unit tests of the classic protocol.
    let topics: TopicManager?
    let consumerGroups = NIOLockedValueBox<[String: ConsumerGroup]>([:])
    /// Share groups (KIP-932) by id, and their share partitions.
    let shareGroups = NIOLockedValueBox<[String: ShareGroup]>([:])
    let sharePartitions: SharePartitions
    let shareSessions: ShareSessionCache
    /// Dynamic group configs (resource type 32): the share group settings that override the broker's.
    let groupConfigs: GroupConfigStore
    private let groups = NIOLockedValueBox<[String: ClassicGroup]>([:])
    private let expiryTimer = NIOLockedValueBox<GroupTimer?>(nil)
    /// Whether the last group creation was refused for `group.max.count` (the warning is logged once per episode).
    private let atGroupLimit = NIOLockedValueBox(false)
    /// Offsets committed in transactions not yet ended, by producer id, group and partition (see
    /// `GroupCoordinator+Transactions`).
    let pendingTransactionalOffsets = NIOLockedValueBox<[Int64: [String: [TopicPartition: CommittedOffset]]]>([:])
    /// Cluster mode: which groups this broker coordinates (those whose `__consumer_offsets` partition it leads).
    let routing = NIOLockedValueBox<ClusterRouting?>(nil)

    /// A coordinator storing its state in `__consumer_offsets` of `topics`.
    /// Group configs are loaded from the data directory; throws when that file is unreadable.
    public convenience init(topics: TopicManager, loops: any EventLoopGroup, logger: Logger) throws {
        let timers = EventLoopGroupTimers(loops: loops)
        let config = GroupCoordinatorConfig(topics.config)
        let groupConfigs = try GroupConfigStore.load(
            dataDirectory: topics.config.dataDirectory, bounds: config.shareGroupConfigBounds)
        let topic = OffsetsTopic(topics: topics, partitions: config.offsetsTopicPartitions, clock: { timers.nowMs() })
        let shareState = ShareStateTopic(
            topics: topics, partitions: config.shareStateTopicPartitions, clock: { timers.nowMs() })
        self.init(
            config: config, timers: timers, store: topic, offsetsTopic: topic, topics: topics, shareState: shareState,
            groupConfigs: groupConfigs, logger: logger)
    }

    init(
        config: GroupCoordinatorConfig, timers: GroupTimers, store: GroupStore, offsetsTopic: OffsetsTopic?,
        topics: TopicManager? = nil, shareState: ShareStateTopic? = nil, groupConfigs: GroupConfigStore? = nil,
        logger: Logger
    ) {
        let groupConfigs = groupConfigs ?? GroupConfigStore(bounds: config.shareGroupConfigBounds)
        self.groupConfigs = groupConfigs
        self.topics = topics
        self.config = config
        self.timers = timers
        self.store = store
        self.offsetsTopic = offsetsTopic
        self.logger = logger
        sharePartitions = SharePartitions(settings: .init(
            lockDurationMs: config.shareRecordLockDurationMs, deliveryLimit: config.shareDeliveryCountLimit,
            maxRecordLocks: config.sharePartitionMaxRecordLocks, startAtEarliest: config.shareAutoOffsetResetEarliest),
            store: shareState, groupConfigs: groupConfigs)
        shareSessions = ShareSessionCache(maxSessions: config.shareMaxSessions)
    }

    /// The group, if it exists.
    func group(_ groupId: String) -> ClassicGroup? {
        groups.withLockedValue { $0[groupId] }
    }

    /// The group, created Empty when missing, without regard to `group.max.count` (start-up and tests; request
    /// paths use `groupCreatingIfRoom`).
    func groupCreatingIfMissing(_ groupId: String) -> ClassicGroup {
        groups.withLockedValue { groups in
            if let existing = groups[groupId] { return existing }
            let group = ClassicGroup(groupId: groupId, config: config, timers: timers, store: store)
            groups[groupId] = group
            return group
        }
    }

    /// The group, created Empty when missing and `group.max.count` leaves room for a new group id (an id that a
    /// `consumer` group already uses is not new); nil otherwise.
    func groupCreatingIfRoom(_ groupId: String) -> ClassicGroup? {
        let created = groups.withLockedValue { groups -> ClassicGroup? in
            if let existing = groups[groupId] { return existing }
            let room = consumerGroups.withLockedValue { consumer in
                consumer[groupId] != nil || groups.count + consumer.count < config.groupMaxCount
            }
            guard room else { return nil }
            let group = ClassicGroup(groupId: groupId, config: config, timers: timers, store: store)
            groups[groupId] = group
            return group
        }
        noteGroupLimit(refused: created == nil)
        return created
    }

    /// The `consumer` group, created when missing and `group.max.count` leaves room (see `groupCreatingIfRoom`).
    func consumerGroupCreatingIfRoom(_ groupId: String, topics: TopicManager) -> ConsumerGroup? {
        let created = groups.withLockedValue { groups in
            consumerGroups.withLockedValue { consumer -> ConsumerGroup? in
                if let existing = consumer[groupId] { return existing }
                guard groups[groupId] != nil || groups.count + consumer.count < config.groupMaxCount else { return nil }
                let group = ConsumerGroup(
                    groupId: groupId, timers: timers, topics: topics, sessionTimeoutMs: config.consumerSessionTimeoutMs,
                    heartbeatIntervalMs: config.consumerHeartbeatIntervalMs, maxSize: config.consumerGroupMaxSize,
                    store: store)
                consumer[groupId] = group
                return group
            }
        }
        noteGroupLimit(refused: created == nil)
        return created
    }

    /// Logs the first refusal for `group.max.count` and the first creation after the limit cleared.
    private func noteGroupLimit(refused: Bool) {
        let changed = atGroupLimit.withLockedValue { state -> Bool in
            defer { state = refused }
            return state != refused
        }
        guard changed else { return }
        if refused {
            logger.warning(
                "group.max.count reached: new groups are refused with COORDINATOR_NOT_AVAILABLE",
                metadata: ["group.max.count": "\(config.groupMaxCount)"])
        } else {
            logger.info("groups below group.max.count again: new groups are accepted")
        }
    }

    /// Every group, by id.
    func allGroups() -> [(String, ClassicGroup)] {
        groups.withLockedValue { $0.sorted { $0.key < $1.key } }
    }

    func drop(_ groupId: String, _ group: ClassicGroup) {
        groups.withLockedValue { groups in
            if groups[groupId] === group { groups.removeValue(forKey: groupId) }
        }
    }

    /// Whether this broker coordinates `groupId`: always on a single node; in a cluster when it leads the group's
    /// `__consumer_offsets` partition (else requests answer NOT_COORDINATOR and the client looks it up again).
    func coordinates(_ groupId: String) -> Bool {
        guard let routing = routing.withLockedValue({ $0 }) else { return true }
        guard let count = topics?.topic(named: OffsetsTopic.name)?.partitionCount else { return false }
        return routing.coordinates(OffsetsTopic.name, partition: OffsetsTopic.partition(for: groupId, count: count))
    }

    /// Creates `__consumer_offsets` when missing (FindCoordinator does this, as Kafka does on first use).
    func ensureOffsetsTopic() throws {
        try offsetsTopic?.ensureCreated()
    }

    /// Loads every group and offset from `__consumer_offsets`, then starts the offset-expiry timer.
    public func start() async {
        if let offsetsTopic {
            var report = OffsetsTopicLoadReport()
            var pending: [Int64: [GroupRecord]] = [:]
            let records = offsetsTopic.loadAll(&report, pending: &pending)
            restorePendingTransactionalOffsets(pending)
            if !report.isEmpty {
                logger.warning("skipped unreadable \(OffsetsTopic.name) data; everything else was loaded", metadata: [
                    "skippedRecords": "\(report.skippedRecords)", "skippedBatches": "\(report.skippedBatches)",
                    "unreadablePartitions": "\(report.unreadablePartitions)",
                    "firstProblems": "\(report.problems.joined(separator: "; "))",
                ])
            }
            await restore(records)
        }
        restoreSharePartitions()
        scheduleExpiry()
    }

    /// Replays records in log order: the latest value per key wins, tombstones delete.
    func restore(_ records: [GroupRecord]) async {
        var offsets: [String: [TopicPartition: CommittedOffset]] = [:]
        var metadata: [String: StoredGroup?] = [:]
        var consumer: [String: [String: ConsumerGroupRecord]] = [:]
        var share: [String: [String: ShareGroupRecord]] = [:]
        for record in records {
            switch record {
            case .offset(let group, let partition, let value):
                offsets[group, default: [:]][partition] = value
            case .metadata(let group, let value):
                metadata[group] = .some(value)
            case .consumer(let record):
                consumer[record.groupId, default: [:]][record.keyName] = record.isTombstone ? nil : record
            case .share(let record):
                share[record.groupId, default: [:]][record.keyName] = record.isTombstone ? nil : record
            }
        }
        await restoreConsumerGroups(consumer.mapValues { Array($0.values) })
        await restoreShareGroups(share.filter { !$0.value.isEmpty }.mapValues { Array($0.values) })
        let ids = Set(offsets.keys).union(metadata.keys)
        for id in ids.sorted() {
            let stored = metadata[id] ?? nil
            let committed = offsets[id] ?? [:]
            guard stored != nil || !committed.isEmpty else { continue }
            await groupCreatingIfMissing(id).restore(metadata: stored, offsets: committed)
        }
        if !ids.isEmpty { logger.info("loaded consumer groups", metadata: ["groups": "\(ids.count)"]) }
    }

    private func scheduleExpiry() {
        let timer = timers.schedule(afterMs: config.offsetsRetentionCheckIntervalMs) { [weak self] in
            guard let self else { return }
            Task {
                await self.expireOffsets()
                self.scheduleExpiry()
            }
        }
        expiryTimer.withLockedValue { $0 = timer }
    }

    /// Stops the periodic offset expiry and the groups' timers; parked requests get NOT_COORDINATOR.
    public func stop() async {
        expiryTimer.withLockedValue { $0?.cancel() }
        for (_, group) in allGroups() { await group.shutdown() }
        for group in consumerGroups.withLockedValue({ Array($0.values) }) { await group.shutdown() }
        for group in shareGroups.withLockedValue({ Array($0.values) }) { await group.shutdown() }
    }

    /// One round of offset expiry over every group; groups left empty without offsets are dropped.
    func expireOffsets() async {
        let now = timers.nowMs()
        for (id, group) in allGroups() {
            if await hasConsumerMembers(id) { continue }
            guard await group.expireOffsets(now: now) else { continue }
            drop(id, group)
            if let consumer = consumerGroups.withLockedValue({ $0.removeValue(forKey: id) }) {
                try? await consumer.deleteRecords()
            }
        }
    }

    /// DeleteGroups for one group.
    func deleteGroup(_ groupId: String) async -> KafkaErrorCode {
        guard !groupId.isEmpty else { return .invalidGroupId }
        if await hasConsumerMembers(groupId) { return .nonEmptyGroup }
        if let share = shareGroup(groupId) { return await deleteShareGroup(groupId, share) }
        let consumer = consumerGroups.withLockedValue { $0.removeValue(forKey: groupId) }
        if let consumer {
            do {
                try await consumer.deleteRecords()
            } catch {
                return .coordinatorNotAvailable
            }
        }
        guard let group = group(groupId) else { return consumer == nil ? .groupIdNotFound : .noError }
        let error = await group.delete()
        if error == .noError { drop(groupId, group) }
        return error
    }

    /// JoinGroup: validates the group id and session timeout, creates a new group for a new member.
    ///
    /// What the group metadata record cannot hold is refused before anything changes: a group id longer than
    /// Kafka's int16 strings gets INVALID_GROUP_ID; a member id, group instance id, protocol type or protocol
    /// name that long gets INVALID_REQUEST (Kafka fails writing such a record; a client cannot do better by
    /// retrying either way).
    func join(groupId: String, _ input: JoinGroupInput) async -> JoinGroupOutcome {
        guard !groupId.isEmpty, GroupRecord.fits(groupId) else {
            return JoinGroupOutcome(error: .invalidGroupId, memberId: input.memberId)
        }
        guard GroupRecord.fits(input.memberId), GroupRecord.fits(input.groupInstanceId),
              GroupRecord.fits(input.protocolType), GroupRecord.fits(input.clientId),
              GroupRecord.fits(input.clientHost), input.protocols.allSatisfy({ GroupRecord.fits($0.name) })
        else {
            return JoinGroupOutcome(error: .invalidRequest, memberId: input.memberId)
        }
        guard input.sessionTimeoutMs >= config.minSessionTimeoutMs, input.sessionTimeoutMs <= config.maxSessionTimeoutMs else {
            return JoinGroupOutcome(error: .invalidSessionTimeout, memberId: input.memberId)
        }
        if await hasConsumerMembers(groupId) {
            return JoinGroupOutcome(error: .inconsistentGroupProtocol, memberId: input.memberId)
        }
        // An empty consumer-protocol group gives way to the classic group (offsets stay with the id).
        if let consumer = consumerGroups.withLockedValue({ $0.removeValue(forKey: groupId) }) {
            try? await consumer.deleteRecords()
        }
        let group: ClassicGroup
        if input.memberId.isEmpty {
            guard let created = groupCreatingIfRoom(groupId) else {
                return JoinGroupOutcome(error: .coordinatorNotAvailable, memberId: input.memberId)
            }
            group = created
        } else if let existing = self.group(groupId) {
            group = existing
        } else {
            return JoinGroupOutcome(error: .unknownMemberId, memberId: input.memberId)
        }
        let outcome = await group.join(input)
        if outcome.error == .coordinatorNotAvailable, await group.state == .dead { drop(groupId, group) }
        return outcome
    }
}
