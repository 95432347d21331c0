import KafkaProtocol
import Testing
@testable import PortaskBroker

/// ElectLeaders and the partition reassignment APIs answered as Kafka's controller answers them with one broker.
struct PartitionAdminHandlerTests {
    private static let notNeeded = KafkaErrorCode.electionNotNeeded.rawValue
    private static let unknown = KafkaErrorCode.unknownTopicOrPartition.rawValue

    private func handlers(_ fixture: TemporaryTopics) -> PartitionAdminHandlers {
        PartitionAdminHandlers(topics: fixture.manager, nodeId: 0, access: AccessControl())
    }

    @Test func electLeaders_answersElectionNotNeededForExistingPartitions() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "e", partitions: 2)
        for type: Int8 in [0, 1] {
            let response = handlers(fixture).elect(ElectLeadersRequest(electionType: type, topicPartitions: [
                .init(topic: "e", partitions: [0, 1, 2]), .init(topic: "nope", partitions: [0]),
            ]), authorized: true)
            try expectEncodes(response, versions: 0...2)
            #expect(response.errorCode == 0)
            let e = response.replicaElectionResults[0].partitionResult
            #expect(e.map(\.errorCode) == [Self.notNeeded, Self.notNeeded, Self.unknown])
            #expect(e[0].errorMessage == "Leader election not needed for topic partition.")
            #expect(e[2].errorMessage == "No such partition as e-2")
            #expect(response.replicaElectionResults[1].partitionResult[0].errorMessage == "No such topic as nope")
        }
    }

    @Test func electLeaders_forEveryPartition_listsTopicsWithoutResults() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "a", partitions: 3)
        try fixture.manager.create(name: "b", partitions: 1)
        let response = handlers(fixture).elect(ElectLeadersRequest(electionType: 0, topicPartitions: nil), authorized: true)
        try expectEncodes(response, versions: 0...2)
        #expect(response.replicaElectionResults.map(\.topic) == ["a", "b"])
        #expect(response.replicaElectionResults.allSatisfy { $0.partitionResult.isEmpty })
    }

    @Test func electLeaders_refusesUnknownTypesAndUnauthorizedPrincipals() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "e", partitions: 1)
        let request = ElectLeadersRequest(electionType: 7, topicPartitions: [.init(topic: "e", partitions: [0])])
        let invalid = handlers(fixture).elect(request, authorized: true)
        #expect(invalid.errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(invalid.replicaElectionResults[0].partitionResult[0].errorMessage == "Unknown election type 7")
        let refused = handlers(fixture).elect(ElectLeadersRequest(electionType: 0, topicPartitions: [
            .init(topic: "e", partitions: [0]),
        ]), authorized: false)
        #expect(refused.errorCode == KafkaErrorCode.clusterAuthorizationFailed.rawValue)
        #expect(refused.replicaElectionResults[0].partitionResult[0].errorCode == KafkaErrorCode.clusterAuthorizationFailed.rawValue)
        #expect(refused.replicaElectionResults[0].partitionResult[0].errorMessage == nil)
    }

    @Test func alterPartitionReassignments_answersKafkasErrorsWithOneBroker() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "r", partitions: 1)
        func outcome(_ replicas: [Int32]?, topic: String = "r", partition: Int32 = 0, version: Int16 = 1,
                     allow: Bool = true) -> (Int16, String?) {
            var request = AlterPartitionReassignmentsRequest(topics: [
                .init(name: topic, partitions: [.init(partitionIndex: partition, replicas: replicas)]),
            ])
            request.allowReplicationFactorChange = allow
            let response = handlers(fixture).reassign(request, version: version, authorized: true)
            #expect(response.errorCode == 0 && response.errorMessage == nil)
            let result = response.responses[0].partitions[0]
            return (result.errorCode, result.errorMessage)
        }
        #expect(outcome([0]) == (0, nil))
        #expect(outcome(nil) == (KafkaErrorCode.noReassignmentInProgress.rawValue, nil))
        #expect(outcome([0], topic: "x") == (Self.unknown, "Unable to find a topic named x."))
        #expect(outcome([0], partition: 4) == (Self.unknown, "Unable to find partition r:4."))
        let invalid = KafkaErrorCode.invalidReplicaAssignment.rawValue
        #expect(outcome([0, 1]) == (invalid, "The manual partition assignment includes broker 1, but no such broker is registered."))
        #expect(outcome([0, 0]) == (invalid, "The manual partition assignment includes the broker 0 more than once."))
        #expect(outcome([]) == (invalid, "The manual partition assignment includes an empty replica list."))
        #expect(outcome([0, 1], allow: false)
            == (KafkaErrorCode.invalidReplicationFactor.rawValue, "The replication factor is changed from 1 to 2"))
        // v0 has no such flag: a change of factor is judged by the assignment alone.
        #expect(outcome([0, 1], version: 0, allow: false).0 == invalid)
        let response = handlers(fixture).reassign(AlterPartitionReassignmentsRequest(topics: [
            .init(name: "r", partitions: [.init(partitionIndex: 0, replicas: [0])]),
        ]), version: 1, authorized: true)
        try expectEncodes(response, versions: 0...1)
    }

    @Test func partitionReassignments_unauthorizedAndListed() throws {
        let fixture = try TemporaryTopics()
        try fixture.manager.create(name: "r", partitions: 1)
        let refused = handlers(fixture).reassign(AlterPartitionReassignmentsRequest(topics: [
            .init(name: "r", partitions: [.init(partitionIndex: 0, replicas: [0])]),
        ]), version: 0, authorized: false)
        #expect(refused.errorCode == KafkaErrorCode.clusterAuthorizationFailed.rawValue)
        #expect(refused.responses[0].partitions[0].errorCode == KafkaErrorCode.clusterAuthorizationFailed.rawValue)

        let all = handlers(fixture).listReassignments(ListPartitionReassignmentsRequest(topics: nil), authorized: true)
        try expectEncodes(all, versions: 0...0)
        #expect(all.errorCode == 0 && all.topics.isEmpty)
        let named = handlers(fixture).listReassignments(
            ListPartitionReassignmentsRequest(topics: [.init(name: "r", partitionIndexes: [0])]), authorized: true)
        #expect(named.topics.isEmpty)
        let denied = handlers(fixture).listReassignments(
            ListPartitionReassignmentsRequest(topics: [.init(name: "r", partitionIndexes: [0])]), authorized: false)
        #expect(denied.errorCode == KafkaErrorCode.clusterAuthorizationFailed.rawValue && denied.topics.count == 1)
    }
}
