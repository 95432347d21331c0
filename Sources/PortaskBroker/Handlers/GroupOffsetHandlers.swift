import KafkaProtocol
import LogEngine

/// OffsetCommit (key 8, v0–10), OffsetFetch (key 9, v0–10, batched groups from v8) and OffsetDelete (key 47, v0)
/// over the `GroupCoordinator`; commits are answered once durable in `__consumer_offsets`. From v10 both name
/// topics by id (KIP-848): an unknown id gets UNKNOWN_TOPIC_ID, and OffsetFetch's "all offsets" leaves out topics
/// that no longer exist. With an authorizer, a commit needs READ on the group (else GROUP_AUTHORIZATION_FAILED
/// everywhere) and on each topic (else TOPIC_AUTHORIZATION_FAILED); a fetch needs DESCRIBE on the group, and
/// offsets of topics without DESCRIBE are left out; deleting offsets needs DELETE on the group (else
/// GROUP_AUTHORIZATION_FAILED) and READ on each topic (else TOPIC_AUTHORIZATION_FAILED). Thread-safe.
struct GroupOffsetHandlers: Sendable {
    let coordinator: GroupCoordinator
    let topics: TopicManager
    var access = AccessControl()

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(OffsetCommitRequest.self, response: OffsetCommitResponse.self, versions: 0...10) { request, context in
                await self.commit(request, version: context.apiVersion, context: context)
            },
            ApiHandler(OffsetFetchRequest.self, response: OffsetFetchResponse.self, versions: 0...10) { request, context in
                await self.fetch(request, version: context.apiVersion, context: context)
            },
            ApiHandler(OffsetDeleteRequest.self, response: OffsetDeleteResponse.self, versions: 0...0) { request, context in
                await self.delete(request, context: context)
            },
        ]
    }

    /// The first OffsetCommit and OffsetFetch version naming topics by id.
    static let firstTopicIdVersion: Int16 = 10

    func commit(_ incoming: OffsetCommitRequest, version: Int16, context: RequestContext? = nil) async -> OffsetCommitResponse {
        let now = coordinator.timers.nowMs()
        var request = incoming
        if version >= Self.firstTopicIdVersion {
            for index in request.topics.indices {
                request.topics[index].name = topics.topic(id: request.topics[index].topicId)?.name ?? ""
            }
        }
        var errors: [TopicPartition: KafkaErrorCode] = [:]
        var accepted: [TopicPartition: CommittedOffset] = [:]
        let groupAllowed = context.map { access.allows($0, .read, .group, request.groupId) } ?? true
        let coordinated = coordinator.coordinates(request.groupId)
        for topic in request.topics {
            let known = topics.topic(named: topic.name)
            let topicAllowed = context.map { access.allows($0, .read, .topic, topic.name) } ?? true
            for partition in topic.partitions {
                let key = TopicPartition(topic.name, partition.partitionIndex)
                if version >= Self.firstTopicIdVersion && topic.name.isEmpty {
                    errors[key] = .unknownTopicId
                    continue
                }
                guard groupAllowed, topicAllowed else {
                    errors[key] = groupAllowed ? .topicAuthorizationFailed : .groupAuthorizationFailed
                    continue
                }
                let metadata = partition.committedMetadata ?? ""
                if let known, partition.partitionIndex >= 0, Int(partition.partitionIndex) < known.partitionCount {
                    // The offset commit value holds the metadata as an int16-length string: never more than that.
                    if metadata.utf8.count > min(coordinator.config.offsetMetadataMaxBytes, GroupRecord.maxStringBytes) {
                        errors[key] = .offsetMetadataTooLarge
                        continue
                    }
                    // Expiry deadlines saturate: a retention of Int64.max keeps the offset for good (Kafka's Java
                    // wraps `now + retentionTimeMs` into the past, which would expire it at once).
                    var expire: Int64?
                    if version == 1 && partition.commitTimestamp >= 0 {
                        expire = partition.commitTimestamp.saturatingAdd(coordinator.config.offsetsRetentionMs)
                    } else if (2...4).contains(version) && request.retentionTimeMs >= 0 {
                        expire = now.saturatingAdd(request.retentionTimeMs)
                    }
                    accepted[key] = CommittedOffset(
                        offset: partition.committedOffset,
                        leaderEpoch: version >= 6 ? partition.committedLeaderEpoch : -1, metadata: metadata,
                        commitTimestamp: version == 1 && partition.commitTimestamp >= 0 ? partition.commitTimestamp : now,
                        expireTimestamp: expire)
                } else {
                    errors[key] = .unknownTopicOrPartition
                }
            }
        }
        let groupError = !groupAllowed ? .groupAuthorizationFailed
            : !coordinated ? .notCoordinator : await commitToGroup(request, version: version, accepted)
        for key in accepted.keys { errors[key] = groupError }
        return OffsetCommitResponse(topics: request.topics.map { topic in
            .init(name: topic.name, topicId: topic.topicId, partitions: topic.partitions.map { partition in
                .init(
                    partitionIndex: partition.partitionIndex,
                    errorCode: (errors[TopicPartition(topic.name, partition.partitionIndex)] ?? .noError).rawValue)
            })
        })
    }

    private func commitToGroup(
        _ request: OffsetCommitRequest, version: Int16, _ offsets: [TopicPartition: CommittedOffset]
    ) async -> KafkaErrorCode {
        // A group id the offset commit key cannot hold (int16 length) is refused, never clamped.
        guard !request.groupId.isEmpty, GroupRecord.fits(request.groupId) else { return .invalidGroupId }
        let generation = version >= 1 ? request.generationIdOrMemberEpoch : -1
        let memberId = version >= 1 ? request.memberId : ""
        if let error = await coordinator.validateConsumerMember(
            groupId: request.groupId, memberId: memberId, memberEpoch: generation)
        {
            guard error == .noError else { return error == .staleMemberEpoch && version < 9 ? .illegalGeneration : error }
            guard !offsets.isEmpty else { return .noError }
            guard let holder = coordinator.groupCreatingIfRoom(request.groupId) else { return .coordinatorNotAvailable }
            return await holder.commit(memberId: "", groupInstanceId: nil, generationId: -1, offsets: offsets)
        }
        let group: ClassicGroup
        if let existing = coordinator.group(request.groupId) {
            group = existing
        } else if generation < 0 {
            // A simple commit creates the group, within `group.max.count`; an empty one creates nothing.
            guard !offsets.isEmpty else { return .noError }
            guard let created = coordinator.groupCreatingIfRoom(request.groupId) else { return .coordinatorNotAvailable }
            group = created
        } else {
            return .illegalGeneration
        }
        guard !offsets.isEmpty else { return .noError }
        return await group.commit(
            memberId: memberId, groupInstanceId: version >= 7 ? request.groupInstanceId : nil,
            generationId: generation, offsets: offsets)
    }

    func fetch(_ request: OffsetFetchRequest, version: Int16, context: RequestContext? = nil) async -> OffsetFetchResponse {
        func committed(groupId: String, _ wanted: [TopicPartition]?) async
            -> (KafkaErrorCode, [(TopicPartition, CommittedOffset?)])
        {
            guard coordinator.coordinates(groupId) else { return (.notCoordinator, []) }
            guard let context, access.isEnabled else { return await self.committed(groupId: groupId, wanted) }
            guard access.allows(context, .describe, .group, groupId) else { return (.groupAuthorizationFailed, []) }
            let (error, found) = await self.committed(groupId: groupId, wanted)
            return (error, found.filter { access.allows(context, .describe, .topic, $0.0.topic) })
        }
        if version >= 8 {
            var groups: [OffsetFetchResponse.OffsetFetchResponseGroup] = []
            // "All offsets" of a group is looked up once per request, however often the group is named.
            var allOffsets: [String: (KafkaErrorCode, [(TopicPartition, CommittedOffset?)])] = [:]
            let byId = version >= Self.firstTopicIdVersion
            for entry in request.groups {
                // v10 names topics by id: known ids become names, unknown ones are answered UNKNOWN_TOPIC_ID.
                var unknownIds: [OffsetFetchRequest.OffsetFetchRequestTopics] = []
                let wanted = entry.topics.map { requested in
                    requested.flatMap { topic -> [TopicPartition] in
                        let name = byId ? topics.topic(id: topic.topicId)?.name : topic.name
                        guard let name else {
                            unknownIds.append(topic)
                            return []
                        }
                        return topic.partitionIndexes.map { TopicPartition(name, $0) }
                    }
                }
                var (error, found): (KafkaErrorCode, [(TopicPartition, CommittedOffset?)])
                if wanted == nil, let cached = allOffsets[entry.groupId] {
                    (error, found) = cached
                } else {
                    (error, found) = await committed(groupId: entry.groupId, wanted)
                    if wanted == nil { allOffsets[entry.groupId] = (error, found) }
                }
                if version >= 9, let memberId = entry.memberId,
                   let memberError = await coordinator.validateConsumerMember(
                       groupId: entry.groupId, memberId: memberId, memberEpoch: entry.memberEpoch),
                   memberError != .noError
                {
                    (error, found) = (memberError, [])
                }
                let groupId = entry.groupId
                var answered: [OffsetFetchResponse.OffsetFetchResponseTopics] = Self.byTopic(found).compactMap { name, partitions in
                    let topicId = byId ? topics.topic(named: name)?.id : nil
                    if byId && topicId == nil { return nil }
                    return .init(name: name, topicId: topicId ?? .zero, partitions: partitions.map { partition, offset in
                        if request.requireStable, coordinator.hasPendingTransactionalOffset(
                            groupId: groupId, partition: TopicPartition(name, partition))
                        {
                            return .init(
                                partitionIndex: partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: "",
                                errorCode: KafkaErrorCode.unstableOffsetCommit.rawValue)
                        }
                        return .init(
                            partitionIndex: partition, committedOffset: offset?.offset ?? -1,
                            committedLeaderEpoch: offset?.leaderEpoch ?? -1, metadata: offset?.metadata ?? "",
                            errorCode: 0)
                    })
                }
                if error == .noError {
                    answered += unknownIds.map { topic in
                        .init(topicId: topic.topicId, partitions: topic.partitionIndexes.map {
                            .init(partitionIndex: $0, committedOffset: -1, committedLeaderEpoch: -1, metadata: "",
                                  errorCode: KafkaErrorCode.unknownTopicId.rawValue)
                        })
                    }
                }
                groups.append(.init(groupId: entry.groupId, topics: answered, errorCode: error.rawValue))
            }
            return OffsetFetchResponse(groups: groups)
        }
        // Version 0 and 1 have no null topic list; an empty list there means "none".
        let wanted: [TopicPartition]? = request.topics.map { topics in
            topics.flatMap { topic in topic.partitionIndexes.map { TopicPartition(topic.name, $0) } }
        }
        let (error, found) = await committed(groupId: request.groupId, wanted)
        var response = OffsetFetchResponse(topics: Self.byTopic(found).map { name, partitions in
            .init(name: name, partitions: partitions.map { partition, offset in
                if version >= 7, request.requireStable, coordinator.hasPendingTransactionalOffset(
                    groupId: request.groupId, partition: TopicPartition(name, partition))
                {
                    return .init(
                        partitionIndex: partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: "",
                        errorCode: KafkaErrorCode.unstableOffsetCommit.rawValue)
                }
                return .init(
                    partitionIndex: partition, committedOffset: offset?.offset ?? -1,
                    committedLeaderEpoch: version >= 5 ? offset?.leaderEpoch ?? -1 : -1,
                    metadata: offset?.metadata ?? "", errorCode: version < 2 ? error.rawValue : 0)
            })
        })
        if version >= 2 { response.errorCode = error.rawValue }
        return response
    }

    private func committed(groupId: String, _ wanted: [TopicPartition]?) async
        -> (KafkaErrorCode, [(TopicPartition, CommittedOffset?)])
    {
        guard !groupId.isEmpty else { return (.invalidGroupId, []) }
        guard let group = coordinator.group(groupId) else {
            return (.noError, (wanted ?? []).map { ($0, nil) })
        }
        return (.noError, await group.committed(wanted))
    }

    /// Groups partition answers by topic, keeping the request's order.
    static func byTopic<T>(_ entries: [(TopicPartition, T)]) -> [(String, [(Int32, T)])] {
        var order: [String] = []
        var grouped: [String: [(Int32, T)]] = [:]
        for (partition, value) in entries {
            if grouped[partition.topic] == nil { order.append(partition.topic) }
            grouped[partition.topic, default: []].append((partition.partition, value))
        }
        return order.map { ($0, grouped[$0] ?? []) }
    }

    func delete(_ request: OffsetDeleteRequest, context: RequestContext? = nil) async -> OffsetDeleteResponse {
        if let context, !access.allows(context, .delete, .group, request.groupId) {
            return OffsetDeleteResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
        }
        let readable = Set(request.topics.map(\.name).filter { name in
            context.map { access.allows($0, .read, .topic, name) } ?? true
        })
        guard !request.groupId.isEmpty else { return OffsetDeleteResponse(errorCode: KafkaErrorCode.invalidGroupId.rawValue) }
        guard let group = coordinator.group(request.groupId) else {
            return OffsetDeleteResponse(errorCode: KafkaErrorCode.groupIdNotFound.rawValue)
        }
        var partitions: [TopicPartition] = []
        var unknown = Set<TopicPartition>()
        for topic in request.topics where readable.contains(topic.name) {
            let known = topics.topic(named: topic.name)
            for partition in topic.partitions {
                let key = TopicPartition(topic.name, partition.partitionIndex)
                if let known, partition.partitionIndex >= 0, Int(partition.partitionIndex) < known.partitionCount {
                    partitions.append(key)
                } else {
                    unknown.insert(key)
                }
            }
        }
        let (error, errors) = await group.deleteOffsets(partitions)
        guard error == .noError else { return OffsetDeleteResponse(errorCode: error.rawValue) }
        return OffsetDeleteResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                let key = TopicPartition(topic.name, partition.partitionIndex)
                let code: KafkaErrorCode = !readable.contains(topic.name) ? .topicAuthorizationFailed
                    : unknown.contains(key) ? .unknownTopicOrPartition : errors[key] ?? .noError
                return .init(partitionIndex: partition.partitionIndex, errorCode: code.rawValue)
            })
        })
    }
}
