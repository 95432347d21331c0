import KafkaProtocol
import LogEngine
import NIOConcurrencyHelpers
import NIOCore

/// ShareFetch (key 78, v1–2) and ShareAcknowledge (key 79, v1–2) of share groups (KIP-932).
///
/// ShareFetch applies the acknowledgements it carries, then acquires records for the member from the share
/// partitions of its share session (`ShareSessionCache`): Available records first (redeliveries), then records
/// past the in-flight range, at most `MaxRecords` in all, each locked for `group.share.record.lock.duration.ms`.
/// The log data goes out as whole stored batches (zero-copy file regions); `AcquiredRecords` tells the client
/// which offsets of them it holds, in entries of at most `BatchSize` records. A fetch that acquires nothing parks until an append to one of its partitions,
/// a release of records, the next lock expiry or `MaxWaitMs`. v2's `IsRenewAck` makes a request acknowledge
/// only (RENEW extends locks); both acquire modes stop at `MaxRecords`.
///
/// ShareAcknowledge applies acknowledgements (ACCEPT, RELEASE, REJECT, and RENEW from v2); each partition answers
/// its own error (INVALID_RECORD_STATE for records the member does not hold). Thread-safe.
struct ShareFetchHandler: Sendable {
    let coordinator: GroupCoordinator
    let topics: TopicManager
    let waiters: FetchWaiters
    let nodeId: Int32
    /// With an authorizer, the share group needs READ (else GROUP_AUTHORIZATION_FAILED for the whole request, as
    /// Kafka) and each topic READ, else its partitions answer TOPIC_AUTHORIZATION_FAILED.
    var access = AccessControl()
    /// Kafka's `fetch.max.bytes`: the most record bytes of one response.
    var maximumResponseBytes = 57_671_680
    /// Bumped whenever records become Available through an acknowledgement, so a parked fetch never misses one.
    let releases = NIOLockedValueBox<UInt64>(0)

    var partitions: SharePartitions { coordinator.sharePartitions }
    var sessions: ShareSessionCache { coordinator.shareSessions }

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(ShareFetchRequest.self, response: ShareFetchResponse.self, versions: 1...2, ordered: {
                (request: ShareFetchRequest, context: RequestContext) in
                guard self.access.allows(context, .read, .group, request.groupId ?? "") else {
                    return { ShareFetchResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue) }
                }
                // Session step and acknowledgements in request order; acquisition and its long poll in the
                // completion, so a parked share fetch does not hold up the connection's later requests.
                let prepared = await self.prepareFetch(request, context: context)
                return { await self.completeFetch(prepared, context: context) }
            }),
            ApiHandler(ShareAcknowledgeRequest.self, response: ShareAcknowledgeResponse.self, versions: 1...2) {
                request, context in
                guard self.access.allows(context, .read, .group, request.groupId ?? "") else {
                    return ShareAcknowledgeResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
                }
                return await self.acknowledge(request, context: context)
            },
        ]
    }

    /// One partition named by a request: its topic (nil when unknown) and where it answers.
    struct Target {
        var key: ShareSessionCache.Partition
        var topic: Topic?
        var readable: Bool
    }

    struct AckBatch {
        var firstOffset: Int64
        var lastOffset: Int64
        var types: [Int8]
    }

    /// Applies acknowledgement batches to one share partition and writes the change to `__share_group_state`;
    /// returns once that is durable. The first error stops the partition (what came before it stays applied).
    func acknowledgeDurably(groupId: String, memberId: String, target: Target, batches: [AckBatch], renewAllowed: Bool)
        async -> KafkaErrorCode
    {
        let (error, pending) = applyAcknowledgements(
            groupId: groupId, memberId: memberId, target: target, batches: batches, renewAllowed: renewAllowed)
        guard let pending else { return error }
        do {
            try await partitions.waitUntilDurable(pending)
        } catch {
            return .coordinatorNotAvailable
        }
        return error
    }

    /// Applies acknowledgement batches to one share partition and appends the change (to be made durable).
    func applyAcknowledgements(groupId: String, memberId: String, target: Target, batches: [AckBatch], renewAllowed: Bool)
        -> (KafkaErrorCode, ShareStateTopic.Pending?)
    {
        guard !batches.isEmpty else { return (.noError, nil) }
        guard target.readable else { return (.topicAuthorizationFailed, nil) }
        guard let topic = target.topic else { return (.unknownTopicId, nil) }
        let key = SharePartitions.Key(groupId: groupId, partition: TopicPartition(topic.name, target.key.partition))
        guard let state = partitions.existing(key) else { return (.invalidRecordState, nil) }
        let sharePartitions = partitions
        let now = coordinator.timers.nowMs()
        let lock = partitions.lockDurationMs(groupId)
        var released = false
        let result = state.withLockedValue { state -> (KafkaErrorCode, ShareStateTopic.Pending?) in
            let before = state
            state.expireLocks(nowMs: now)
            var error = KafkaErrorCode.noError
            for batch in batches {
                if !renewAllowed, batch.types.contains(SharePartitionState.AcknowledgeType.renew.rawValue) {
                    error = .invalidRequest
                    break
                }
                if batch.types.contains(SharePartitionState.AcknowledgeType.release.rawValue) { released = true }
                error = state.acknowledge(
                    memberId: memberId, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, types: batch.types,
                    nowMs: now, lockDurationMs: lock)
                if error != .noError { break }
            }
            do {
                return (error, try sharePartitions.persist(key, state, before: before))
            } catch {
                // Not stored: the acknowledgements are undone, the records stay with the member.
                state = before
                return (.coordinatorNotAvailable, nil)
            }
        }
        if released { noteRelease(key.partition) }
        return result
    }

    func noteRelease(_ partition: TopicPartition) {
        releases.withLockedValue { $0 &+= 1 }
        waiters.notify(partition)
    }

    /// Ends a member's share session and releases what it holds (the releases are written to the share state).
    func closeSession(groupId: String, memberId: String) {
        sessions.remove(.init(groupId: groupId, memberId: memberId))
        for partition in partitions.releaseAll(groupId: groupId, memberId: memberId) { noteRelease(partition) }
    }

    /// A connection closed: the share sessions it opened end and their members' acquired records become
    /// Available again at once (Kafka's disconnect listener), rather than when their locks expire.
    func connectionClosed(_ connectionId: UInt64) {
        for key in sessions.removeSessions(ofConnection: connectionId) {
            closeSession(groupId: key.groupId, memberId: key.memberId)
        }
    }

    func resolveTarget(_ topicId: KafkaUUID, _ partition: Int32, context: RequestContext) -> Target {
        let topic = topics.topic(id: topicId)
        let readable = access.allows(context, .read, .topic, topic?.name ?? "")
        return Target(key: .init(topicId: topicId, partition: partition), topic: topic, readable: readable)
    }

    func acknowledge(_ request: ShareAcknowledgeRequest, context: RequestContext) async -> ShareAcknowledgeResponse {
        let version = context.apiVersion
        var response = ShareAcknowledgeResponse(
            acquisitionLockTimeoutMs: Int32(clamping: partitions.lockDurationMs(request.groupId ?? "")))
        guard let groupId = request.groupId, !groupId.isEmpty, let memberId = request.memberId, !memberId.isEmpty else {
            response.errorCode = KafkaErrorCode.invalidRequest.rawValue
            return response
        }
        let sessionKey = ShareSessionCache.Key(groupId: groupId, memberId: memberId)
        let sessionError = sessions.acknowledge(sessionKey, epoch: request.shareSessionEpoch)
        guard sessionError == .noError else {
            response.errorCode = sessionError.rawValue
            return response
        }
        let renew = version >= 2 && request.isRenewAck
        for topic in request.topics {
            var entry = ShareAcknowledgeResponse.ShareAcknowledgeTopicResponse(topicId: topic.topicId)
            for partition in topic.partitions {
                let target = resolveTarget(topic.topicId, partition.partitionIndex, context: context)
                let error = await acknowledgeDurably(
                    groupId: groupId, memberId: memberId, target: target,
                    batches: partition.acknowledgementBatches.map {
                        AckBatch(firstOffset: $0.firstOffset, lastOffset: $0.lastOffset, types: $0.acknowledgeTypes)
                    },
                    renewAllowed: renew)
                entry.partitions.append(.init(
                    partitionIndex: partition.partitionIndex, errorCode: error.rawValue,
                    currentLeader: .init(leaderId: nodeId, leaderEpoch: 0)))
            }
            response.responses.append(entry)
        }
        if request.shareSessionEpoch == ShareSessionCache.finalEpoch {
            closeSession(groupId: groupId, memberId: memberId)
        }
        return response
    }
}
