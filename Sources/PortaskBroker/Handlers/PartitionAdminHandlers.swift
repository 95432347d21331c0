import KafkaProtocol

/// The partition-placement admin APIs answered as Kafka's controller answers them on a cluster of one broker,
/// where every partition has exactly one replica, this broker, which is its preferred leader and leads it:
///
/// - ElectLeaders (key 43, v0–2): ELECTION_NOT_NEEDED for each existing partition (preferred and unclean
///   elections alike), UNKNOWN_TOPIC_OR_PARTITION with Kafka's message for the others, INVALID_REQUEST for an
///   unknown election type. Without a partition list (elect everywhere) each topic is listed with no partition
///   results, as Kafka omits the partitions that need no election.
/// - AlterPartitionReassignments (key 45, v0–1): a target of exactly this broker changes nothing (NONE); a
///   cancellation gets NO_REASSIGNMENT_IN_PROGRESS; any other target INVALID_REPLICA_ASSIGNMENT (an empty list,
///   an unregistered broker, a repeated broker) with Kafka's message, or with v1's
///   `allowReplicationFactorChange` false and another length, INVALID_REPLICATION_FACTOR.
/// - ListPartitionReassignments (key 46, v0): never a reassignment in progress, so no topics.
///
/// ALTER on the cluster guards ElectLeaders and AlterPartitionReassignments, DESCRIBE on the cluster
/// ListPartitionReassignments; a refusal is CLUSTER_AUTHORIZATION_FAILED at the top and on every partition.
/// Thread-safe: reads the topic registry only.
struct PartitionAdminHandlers: Sendable {
    let topics: TopicManager
    let nodeId: Int32
    let access: AccessControl

    /// ElectionType: 0 preferred, 1 unclean.
    static let electionTypes: ClosedRange<Int8> = 0...1

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(ElectLeadersRequest.self, response: ElectLeadersResponse.self, versions: 0...2) { request, context in
                self.elect(request, authorized: self.access.allowsCluster(context, .alter))
            },
            ApiHandler(
                AlterPartitionReassignmentsRequest.self, response: AlterPartitionReassignmentsResponse.self, versions: 0...1
            ) { request, context in
                self.reassign(request, version: context.apiVersion, authorized: self.access.allowsCluster(context, .alter))
            },
            ApiHandler(
                ListPartitionReassignmentsRequest.self, response: ListPartitionReassignmentsResponse.self, versions: 0...0
            ) { request, context in
                self.listReassignments(request, authorized: self.access.allowsCluster(context, .describe))
            },
        ]
    }

    func elect(_ request: ElectLeadersRequest, authorized: Bool) -> ElectLeadersResponse {
        guard authorized, Self.electionTypes.contains(request.electionType) else {
            let error: KafkaErrorCode = authorized ? .invalidRequest : .clusterAuthorizationFailed
            let message = authorized ? "Unknown election type \(request.electionType)" : nil
            return ElectLeadersResponse(
                errorCode: error.rawValue,
                replicaElectionResults: (request.topicPartitions ?? []).map { topic in
                    .init(topic: topic.topic, partitionResult: topic.partitions.map {
                        .init(partitionId: $0, errorCode: error.rawValue, errorMessage: message)
                    })
                })
        }
        guard let requested = request.topicPartitions else {
            return ElectLeadersResponse(replicaElectionResults: topics.allTopics().map { .init(topic: $0.name) })
        }
        return ElectLeadersResponse(replicaElectionResults: requested.map { topic in
            .init(topic: topic.topic, partitionResult: topic.partitions.map { partition in
                guard let problem = unknownPartition(topic.topic, partition) else {
                    return .init(
                        partitionId: partition, errorCode: KafkaErrorCode.electionNotNeeded.rawValue,
                        errorMessage: "Leader election not needed for topic partition.")
                }
                return .init(
                    partitionId: partition, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue,
                    errorMessage: problem)
            })
        })
    }

    func reassign(
        _ request: AlterPartitionReassignmentsRequest, version: Int16, authorized: Bool
    ) -> AlterPartitionReassignmentsResponse {
        let allowFactorChange = version < 1 || request.allowReplicationFactorChange
        guard authorized else {
            let code = KafkaErrorCode.clusterAuthorizationFailed.rawValue
            return AlterPartitionReassignmentsResponse(
                allowReplicationFactorChange: allowFactorChange, errorCode: code, errorMessage: nil,
                responses: request.topics.map { topic in
                    .init(name: topic.name, partitions: topic.partitions.map {
                        .init(partitionIndex: $0.partitionIndex, errorCode: code, errorMessage: nil)
                    })
                })
        }
        return AlterPartitionReassignmentsResponse(
            allowReplicationFactorChange: allowFactorChange, errorCode: 0, errorMessage: nil,
            responses: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { partition in
                    let (code, message) = reassignment(topic.name, partition, allowFactorChange: allowFactorChange)
                    return .init(partitionIndex: partition.partitionIndex, errorCode: code.rawValue, errorMessage: message)
                })
            })
    }

    func listReassignments(_ request: ListPartitionReassignmentsRequest, authorized: Bool) -> ListPartitionReassignmentsResponse {
        guard authorized else {
            return ListPartitionReassignmentsResponse(
                errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: nil,
                topics: (request.topics ?? []).map { topic in
                    .init(name: topic.name, partitions: topic.partitionIndexes.map { .init(partitionIndex: $0) })
                })
        }
        return ListPartitionReassignmentsResponse(errorCode: 0, errorMessage: nil, topics: [])
    }

    /// One partition's reassignment outcome, following the order of Kafka's checks.
    private func reassignment(
        _ topic: String, _ partition: AlterPartitionReassignmentsRequest.ReassignablePartition, allowFactorChange: Bool
    ) -> (KafkaErrorCode, String?) {
        guard self.topics.topic(named: topic) != nil else {
            return (.unknownTopicOrPartition, "Unable to find a topic named \(topic).")
        }
        guard self.topics.partition(topic, partition.partitionIndex) != nil else {
            return (.unknownTopicOrPartition, "Unable to find partition \(topic):\(partition.partitionIndex).")
        }
        guard let target = partition.replicas else { return (.noReassignmentInProgress, nil) }
        if !allowFactorChange, target.count != 1 {
            return (.invalidReplicationFactor, "The replication factor is changed from 1 to \(target.count)")
        }
        if target.isEmpty {
            return (.invalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
        }
        var previous: Int32?
        for broker in target.sorted() {
            if broker != nodeId {
                return (.invalidReplicaAssignment,
                        "The manual partition assignment includes broker \(broker), but no such broker is registered.")
            }
            if broker == previous {
                return (.invalidReplicaAssignment,
                        "The manual partition assignment includes the broker \(broker) more than once.")
            }
            previous = broker
        }
        return (.noError, nil)
    }

    /// Kafka's message for a partition an election cannot find, or `nil` when the partition exists.
    private func unknownPartition(_ topic: String, _ partition: Int32) -> String? {
        guard topics.topic(named: topic) != nil else { return "No such topic as \(topic)" }
        guard topics.partition(topic, partition) != nil else { return "No such partition as \(topic)-\(partition)" }
        return nil
    }
}
