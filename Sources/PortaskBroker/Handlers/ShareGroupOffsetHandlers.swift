import KafkaProtocol
import LogEngine

/// DescribeShareGroupOffsets (key 90, v0–1), AlterShareGroupOffsets (key 91, v0) and DeleteShareGroupOffsets
/// (key 92, v0): the share-partition start offsets of share groups. Describe answers each share partition's
/// start offset (-1 where the group has not read the partition) and, from v1, its lag; Alter and Delete need an
/// empty share group (NON_EMPTY_GROUP otherwise); Alter starts the named share partitions afresh at the given
/// offsets (within the log: OFFSET_OUT_OF_RANGE otherwise), Delete forgets them (the next read starts at
/// `share.auto.offset.reset`). Both are durable in `__share_group_state` before the answer. Thread-safe.
///
/// With an authorizer, as Kafka checks them: Describe needs DESCRIBE on the group and on each topic, Alter READ on
/// the group and on each topic, Delete DELETE on the group and READ on each topic (GROUP_AUTHORIZATION_FAILED for
/// the group, TOPIC_AUTHORIZATION_FAILED for each refused topic; a Describe of all topics leaves refused ones out).
struct ShareGroupOffsetHandlers: Sendable {
    let coordinator: GroupCoordinator
    let topics: TopicManager
    var access = AccessControl()

    var partitions: SharePartitions { coordinator.sharePartitions }

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(DescribeShareGroupOffsetsRequest.self, response: DescribeShareGroupOffsetsResponse.self, versions: 0...1) {
                request, context in
                self.describe(request, context: context)
            },
            ApiHandler(AlterShareGroupOffsetsRequest.self, response: AlterShareGroupOffsetsResponse.self, versions: 0...0) {
                request, context in
                await self.alter(request, context: context)
            },
            ApiHandler(DeleteShareGroupOffsetsRequest.self, response: DeleteShareGroupOffsetsResponse.self, versions: 0...0) {
                request, context in
                await self.delete(request, context: context)
            },
        ]
    }

    func describe(_ request: DescribeShareGroupOffsetsRequest, context: RequestContext) -> DescribeShareGroupOffsetsResponse {
        var response = DescribeShareGroupOffsetsResponse()
        for group in request.groups {
            var entry = DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup(groupId: group.groupId)
            guard access.allows(context, .describe, .group, group.groupId) else {
                entry.errorCode = KafkaErrorCode.groupAuthorizationFailed.rawValue
                entry.errorMessage = "Group authorization failed."
                response.groups.append(entry)
                continue
            }
            guard coordinator.shareGroup(group.groupId) != nil else {
                entry.errorCode = KafkaErrorCode.groupIdNotFound.rawValue
                entry.errorMessage = "Group \(group.groupId) not found."
                response.groups.append(entry)
                continue
            }
            let states = partitions.states(of: group.groupId)
            let requested: [(String, [Int32])] = group.topics.map { $0.map { ($0.topicName, $0.partitions) } }
                ?? Dictionary(grouping: states.map(\.0), by: \.topic).sorted { $0.key < $1.key }
                    .map { ($0.key, $0.value.map(\.partition).sorted()) }
                    .filter { access.allows(context, .describe, .topic, $0.0) }
            let byPartition = Dictionary(states, uniquingKeysWith: { first, _ in first })
            for (name, indexes) in requested {
                let topic = topics.topic(named: name)
                var topicEntry = DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseTopic(
                    topicName: name, topicId: topic?.id ?? .zero)
                let topicAllowed = access.allows(context, .describe, .topic, name)
                for index in indexes {
                    var partition = DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponsePartition(
                        partitionIndex: index, startOffset: -1, leaderEpoch: 0, lag: -1)
                    guard topicAllowed else {
                        partition.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                        partition.errorMessage = "Topic authorization failed."
                        topicEntry.partitions.append(partition)
                        continue
                    }
                    guard let topic, index >= 0, Int(index) < topic.partitionCount else {
                        partition.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                        topicEntry.partitions.append(partition)
                        continue
                    }
                    if let state = byPartition[TopicPartition(name, index)] {
                        let highWatermark = topics.partition(name, index)?.highWatermark ?? 0
                        let (start, finished) = state.withLockedValue { state -> (Int64, Int64) in
                            let done = state.records.filter { $0.state == .acknowledged || $0.state == .archived }.count
                            return (state.startOffset, Int64(done))
                        }
                        partition.startOffset = start
                        partition.lag = max(0, highWatermark &- start &- finished)
                    }
                    topicEntry.partitions.append(partition)
                }
                entry.topics.append(topicEntry)
            }
            response.groups.append(entry)
        }
        return response
    }

    /// The share group for Alter and Delete: it must exist and be empty.
    private func emptyGroup(_ groupId: String) async -> KafkaErrorCode {
        guard let group = coordinator.shareGroup(groupId) else { return .groupIdNotFound }
        return await group.members.isEmpty ? .noError : .nonEmptyGroup
    }

    func alter(_ request: AlterShareGroupOffsetsRequest, context: RequestContext) async -> AlterShareGroupOffsetsResponse {
        guard access.allows(context, .read, .group, request.groupId) else {
            return AlterShareGroupOffsetsResponse(
                errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, errorMessage: "Group authorization failed.")
        }
        let error = await emptyGroup(request.groupId)
        guard error == .noError else {
            return AlterShareGroupOffsetsResponse(errorCode: error.rawValue, errorMessage: "Group \(request.groupId) cannot be altered.")
        }
        var response = AlterShareGroupOffsetsResponse()
        for topicRequest in request.topics {
            let topic = topics.topic(named: topicRequest.topicName)
            var entry = AlterShareGroupOffsetsResponse.AlterShareGroupOffsetsResponseTopic(
                topicName: topicRequest.topicName, topicId: topic?.id ?? .zero)
            let topicAllowed = access.allows(context, .read, .topic, topicRequest.topicName)
            for partitionRequest in topicRequest.partitions {
                var code = KafkaErrorCode.noError
                if !topicAllowed {
                    code = .topicAuthorizationFailed
                } else if let topic, let log = topics.partition(topic.name, partitionRequest.partitionIndex) {
                    let offset = partitionRequest.startOffset
                    if offset < log.logStartOffset || offset > log.logEndOffset {
                        code = .offsetOutOfRange
                    } else {
                        let key = SharePartitions.Key(
                            groupId: request.groupId, partition: TopicPartition(topic.name, partitionRequest.partitionIndex))
                        do {
                            try await partitions.reset(key, topicId: topic.id, to: offset)
                        } catch {
                            code = .coordinatorNotAvailable
                        }
                    }
                } else {
                    code = .unknownTopicOrPartition
                }
                entry.partitions.append(.init(partitionIndex: partitionRequest.partitionIndex, errorCode: code.rawValue))
            }
            response.responses.append(entry)
        }
        return response
    }

    func delete(_ request: DeleteShareGroupOffsetsRequest, context: RequestContext) async -> DeleteShareGroupOffsetsResponse {
        guard access.allows(context, .delete, .group, request.groupId) else {
            return DeleteShareGroupOffsetsResponse(
                errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, errorMessage: "Group authorization failed.")
        }
        let error = await emptyGroup(request.groupId)
        guard error == .noError else {
            return DeleteShareGroupOffsetsResponse(errorCode: error.rawValue, errorMessage: "Group \(request.groupId) cannot be altered.")
        }
        var response = DeleteShareGroupOffsetsResponse()
        for topicRequest in request.topics {
            guard access.allows(context, .read, .topic, topicRequest.topicName) else {
                response.responses.append(.init(
                    topicName: topicRequest.topicName, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue,
                    errorMessage: "Topic authorization failed."))
                continue
            }
            guard let topic = topics.topic(named: topicRequest.topicName) else {
                response.responses.append(.init(
                    topicName: topicRequest.topicName, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue))
                continue
            }
            var code = KafkaErrorCode.noError
            do {
                try await partitions.remove(groupId: request.groupId, topic: topic)
            } catch {
                code = .coordinatorNotAvailable
            }
            response.responses.append(.init(topicName: topic.name, topicId: topic.id, errorCode: code.rawValue))
        }
        return response
    }
}
