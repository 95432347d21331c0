import KafkaProtocol
import LogEngine

/// The client side of Kafka's transaction protocol (transaction.version 1) over the `TransactionCoordinator`:
/// AddPartitionsToTxn (key 24, v0–3: the client versions), AddOffsetsToTxn (key 25, v0–3), EndTxn (key 26,
/// v0–4) and TxnOffsetCommit (key 28, v0–3; v3+ checks generation, member and instance id against the group as
/// Kafka does). Every answer comes after the state change is durable.
/// With an authorizer, as Kafka checks them: WRITE on the transactional id (else
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then WRITE on each added topic (TOPIC_AUTHORIZATION_FAILED, the others
/// OPERATION_NOT_ATTEMPTED), READ on the group for offsets (GROUP_AUTHORIZATION_FAILED) and READ on each committed
/// topic (TOPIC_AUTHORIZATION_FAILED).
/// Thread-safe: the coordinator is an actor.
struct TransactionHandlers: Sendable {
    let coordinator: TransactionCoordinator
    let groups: GroupCoordinator
    let topics: TopicManager
    var access = AccessControl()

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(AddPartitionsToTxnRequest.self, response: AddPartitionsToTxnResponse.self, versions: 0...3) {
                request, context in await self.addPartitions(request, context: context)
            },
            ApiHandler(AddOffsetsToTxnRequest.self, response: AddOffsetsToTxnResponse.self, versions: 0...3) {
                request, context in
                if !self.access.allows(context, .write, .transactionalId, request.transactionalId) {
                    return AddOffsetsToTxnResponse(errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue)
                }
                if !self.access.allows(context, .read, .group, request.groupId) {
                    return AddOffsetsToTxnResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
                }
                return await self.addOffsets(request)
            },
            ApiHandler(EndTxnRequest.self, response: EndTxnResponse.self, versions: 0...4) { request, context in
                if !self.access.allows(context, .write, .transactionalId, request.transactionalId) {
                    return EndTxnResponse(
                        errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue, producerId: -1,
                        producerEpoch: -1)
                }
                let error = await self.coordinator.endTransaction(
                    request.transactionalId, producerId: request.producerId, epoch: request.producerEpoch,
                    commit: request.committed)
                return EndTxnResponse(errorCode: error.rawValue, producerId: -1, producerEpoch: -1)
            },
            ApiHandler(TxnOffsetCommitRequest.self, response: TxnOffsetCommitResponse.self, versions: 0...3) {
                request, context in await self.commitOffsets(request, version: context.apiVersion, context: context)
            },
        ]
    }

    func addPartitions(
        _ request: AddPartitionsToTxnRequest, context: RequestContext? = nil
    ) async -> AddPartitionsToTxnResponse {
        var unknown = Set<TopicPartition>()
        var wanted = Set<TopicPartition>()
        // Refusals by the authorizer, with their codes; any refusal means nothing is added.
        var refused: [TopicPartition: KafkaErrorCode] = [:]
        let idAllowed = context.map {
            access.allows($0, .write, .transactionalId, request.v3AndBelowTransactionalId)
        } ?? true
        for topic in request.v3AndBelowTopics {
            let known = topics.topic(named: topic.name)
            let topicAllowed = context.map { access.allows($0, .write, .topic, topic.name) } ?? true
            for partition in topic.partitions {
                let key = TopicPartition(topic.name, partition)
                if !idAllowed {
                    refused[key] = .transactionalIdAuthorizationFailed
                } else if !topicAllowed {
                    refused[key] = .topicAuthorizationFailed
                } else if let known, !known.isInternal, partition >= 0, Int(partition) < known.partitionCount {
                    wanted.insert(key)
                } else {
                    unknown.insert(key)
                }
            }
        }
        var error: KafkaErrorCode = .noError
        if unknown.isEmpty && refused.isEmpty {
            error = await coordinator.addPartitions(
                request.v3AndBelowTransactionalId, producerId: request.v3AndBelowProducerId,
                epoch: request.v3AndBelowProducerEpoch, wanted)
        }
        var response = AddPartitionsToTxnResponse()
        response.resultsByTopicV3AndBelow = request.v3AndBelowTopics.map { topic in
            .init(name: topic.name, resultsByPartition: topic.partitions.map { partition in
                let key = TopicPartition(topic.name, partition)
                let code: KafkaErrorCode
                if let refusal = refused[key] {
                    code = refusal
                } else if !refused.isEmpty || !unknown.isEmpty {
                    code = unknown.contains(key) ? .unknownTopicOrPartition : .operationNotAttempted
                } else {
                    code = error
                }
                return .init(partitionIndex: partition, partitionErrorCode: code.rawValue)
            })
        }
        return response
    }

    func addOffsets(_ request: AddOffsetsToTxnRequest) async -> AddOffsetsToTxnResponse {
        guard !request.groupId.isEmpty, GroupRecord.fits(request.groupId), let store = groups.offsetsTopic else {
            return AddOffsetsToTxnResponse(errorCode: KafkaErrorCode.invalidGroupId.rawValue)
        }
        do {
            try store.ensureCreated()
        } catch {
            return AddOffsetsToTxnResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue)
        }
        let partition = TopicPartition(OffsetsTopic.name, OffsetsTopic.partition(for: request.groupId, count: store.partitions))
        let error = await coordinator.addPartitions(
            request.transactionalId, producerId: request.producerId, epoch: request.producerEpoch, [partition])
        return AddOffsetsToTxnResponse(errorCode: error.rawValue)
    }

    func commitOffsets(
        _ request: TxnOffsetCommitRequest, version: Int16, context: RequestContext? = nil
    ) async -> TxnOffsetCommitResponse {
        if let context {
            let refusal: KafkaErrorCode? =
                !access.allows(context, .write, .transactionalId, request.transactionalId)
                ? .transactionalIdAuthorizationFailed
                : (!access.allows(context, .read, .group, request.groupId) ? .groupAuthorizationFailed : nil)
            if let refusal { return Self.answer(request, every: refusal) }
        }
        let now = groups.timers.nowMs()
        var errors: [TopicPartition: KafkaErrorCode] = [:]
        var accepted: [TopicPartition: CommittedOffset] = [:]
        for topic in request.topics {
            let known = topics.topic(named: topic.name)
            let topicAllowed = context.map { access.allows($0, .read, .topic, topic.name) } ?? true
            for partition in topic.partitions {
                let key = TopicPartition(topic.name, partition.partitionIndex)
                let metadata = partition.committedMetadata ?? ""
                if !topicAllowed {
                    errors[key] = .topicAuthorizationFailed
                    continue
                }
                guard let known, partition.partitionIndex >= 0, Int(partition.partitionIndex) < known.partitionCount else {
                    errors[key] = .unknownTopicOrPartition
                    continue
                }
                if metadata.utf8.count > min(groups.config.offsetMetadataMaxBytes, GroupRecord.maxStringBytes) {
                    errors[key] = .offsetMetadataTooLarge
                    continue
                }
                accepted[key] = CommittedOffset(
                    offset: partition.committedOffset,
                    leaderEpoch: version >= 2 ? partition.committedLeaderEpoch : -1, metadata: metadata,
                    commitTimestamp: now, expireTimestamp: nil)
            }
        }
        var error: KafkaErrorCode = .noError
        if request.groupId.isEmpty || !GroupRecord.fits(request.groupId) {
            error = .invalidGroupId
        } else if case let problem = await groups.validateTransactionalCommit(
            groupId: request.groupId, memberId: version >= 3 ? request.memberId : "",
            groupInstanceId: version >= 3 ? request.groupInstanceId : nil,
            generationId: version >= 3 ? request.generationId : -1), problem != .noError
        {
            error = problem
        } else if let problem = await coordinator.checkOffsetCommit(
            request.transactionalId, producerId: request.producerId, epoch: request.producerEpoch,
            groupId: request.groupId)
        {
            error = problem
        } else {
            error = await groups.commitTransactionalOffsets(
                groupId: request.groupId, producerId: request.producerId, producerEpoch: request.producerEpoch,
                offsets: accepted)
        }
        for key in accepted.keys { errors[key] = error }
        return TxnOffsetCommitResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                .init(
                    partitionIndex: partition.partitionIndex,
                    errorCode: (errors[TopicPartition(topic.name, partition.partitionIndex)] ?? .noError).rawValue)
            })
        })
    }

    /// The answer with `code` for every partition of the request.
    static func answer(_ request: TxnOffsetCommitRequest, every code: KafkaErrorCode) -> TxnOffsetCommitResponse {
        TxnOffsetCommitResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map {
                .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue)
            })
        })
    }
}

extension TransactionCoordinator {
    /// TxnOffsetCommit's check: the producer is the id's current one and the group's offsets partition was
    /// added to its ongoing transaction (AddOffsetsToTxn). nil when the commit may proceed.
    func checkOffsetCommit(_ id: String, producerId: Int64, epoch: Int16, groupId: String) -> KafkaErrorCode? {
        switch check(id, producerId: producerId, epoch: epoch) {
        case .refused(let error):
            return error
        case .current(let metadata):
            guard metadata.state == .ongoing,
                  metadata.partitions.contains(where: { $0.topic == OffsetsTopic.name })
            else { return .invalidTxnState }
            return nil
        }
    }
}
