import Foundation
import KafkaProtocol
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

/// Every group API answers every served version with a response that encodes in that version.
struct GroupHandlerVersionTests {
    static func context(_ key: ApiKey, _ version: Int16) -> RequestContext {
        RequestContext(apiKey: key, apiVersion: version, correlationId: 1, clientId: "cid", clientAddress: "127.0.0.1:5000")
    }

    @Test func everyVersion_encodesTheFullGroupLifeCycle() async throws {
        let config = try TopicTests.temporaryConfig()
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let topics = try TopicManager(config: config, logger: Logger(label: "test"))
        try topics.create(name: "t", partitions: 2)
        let (coordinator, _, _) = GroupFixtures.coordinator()
        let membership = GroupMembershipHandlers(coordinator: coordinator)
        let offsets = GroupOffsetHandlers(coordinator: coordinator, topics: topics)
        let admin = GroupAdminHandlers(coordinator: coordinator)
        let find = FindCoordinatorHandler(
            cluster: ClusterIdentity(clusterId: "c", advertisedHost: "127.0.0.1", advertisedPort: 9092),
            coordinator: coordinator)

        for version in FindCoordinatorRequest.validVersions {
            var request = FindCoordinatorRequest()
            if version >= 4 { request.coordinatorKeys = ["a", "b"] } else { request.key = "a" }
            let response = find.respond(request, version: version)
            _ = try response.encoded(version: version)
            if version >= 4 { #expect(response.coordinators.map(\.key) == ["a", "b"]) } else { #expect(response.port == 9092) }
            if version >= 1 {
                request.keyType = 1
                let transaction = find.respond(request, version: version)
                _ = try transaction.encoded(version: version)
            }
        }

        for version in JoinGroupRequest.validVersions {
            let group = "g\(version)"
            var join = JoinGroupRequest(groupId: group, sessionTimeoutMs: 10_000, protocolType: "consumer",
                                        protocols: [.init(name: "range", metadata: ByteBuffer(bytes: [0, 0]))])
            if version >= 1 { join.rebalanceTimeoutMs = 10_000 }
            var joined = await membership.join(join, context: Self.context(.joinGroup, version))
            _ = try joined.encoded(version: version)
            if version >= 4 {
                #expect(joined.errorCode == KafkaErrorCode.memberIdRequired.rawValue)
                join.memberId = joined.memberId
                joined = await membership.join(join, context: Self.context(.joinGroup, version))
                _ = try joined.encoded(version: version)
            }
            #expect(joined.errorCode == 0 && joined.generationId == 1 && joined.members.count == 1)
            let syncVersion = min(version, SyncGroupRequest.validVersions.upperBound)
            let synced = await membership.sync(
                SyncGroupRequest(groupId: group, generationId: 1, memberId: joined.memberId,
                                 assignments: [.init(memberId: joined.memberId, assignment: ByteBuffer(bytes: [5]))]),
                version: syncVersion)
            _ = try synced.encoded(version: syncVersion)
            #expect(synced.errorCode == 0 && synced.assignment == ByteBuffer(bytes: [5]))
            let beat = await membership.heartbeat(HeartbeatRequest(groupId: group, generationId: 1, memberId: joined.memberId))
            _ = try beat.encoded(version: min(version, 4))
            #expect(beat.errorCode == 0)

            let commitVersion = version
            var commit = OffsetCommitRequest(groupId: group, topics: [
                .init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 3), .init(partitionIndex: 9, committedOffset: 1)]),
            ])
            if commitVersion >= 1 {
                commit.generationIdOrMemberEpoch = 1
                commit.memberId = joined.memberId
            }
            let committed = await offsets.commit(commit, version: commitVersion)
            _ = try committed.encoded(version: commitVersion)
            let codes = committed.topics[0].partitions.map(\.errorCode)
            #expect(codes[1] == KafkaErrorCode.unknownTopicOrPartition.rawValue)
            if commitVersion >= 1 { #expect(codes[0] == 0) }

            var fetch = OffsetFetchRequest()
            if version >= 8 {
                fetch.groups = [.init(groupId: group, topics: [.init(name: "t", partitionIndexes: [0, 1])]), .init(groupId: "none", topics: nil)]
            } else {
                fetch.groupId = group
                fetch.topics = [.init(name: "t", partitionIndexes: [0, 1])]
            }
            let fetched = await offsets.fetch(fetch, version: version)
            _ = try fetched.encoded(version: version)
            let first = version >= 8 ? fetched.groups[0].topics[0].partitions.map(\.committedOffset)
                : fetched.topics[0].partitions.map(\.committedOffset)
            #expect(first == [version >= 1 ? 3 : -1, -1])

            let describeVersion = min(version, DescribeGroupsRequest.validVersions.upperBound)
            let described = await admin.describe(DescribeGroupsRequest(groups: [group, "missing"]), version: describeVersion)
            _ = try described.encoded(version: describeVersion)
            #expect(described.groups.map(\.groupState) == ["Stable", "Dead"])
            #expect(described.groups[0].members.first?.clientHost == "/127.0.0.1")
            #expect(described.groups[0].authorizedOperations == Int32.min)
        }

        for version in ListGroupsRequest.validVersions {
            var request = ListGroupsRequest()
            if version >= 4 { request.statesFilter = ["stable"] }
            let listed = await admin.list(request, version: version)
            _ = try listed.encoded(version: version)
            #expect(listed.groups.count == 10)
        }
        let deletedOffsets = await offsets.delete(OffsetDeleteRequest(groupId: "g9", topics: [.init(name: "t", partitions: [.init(partitionIndex: 0)])]))
        _ = try deletedOffsets.encoded(version: 0)
        // The members' metadata is no consumer subscription, so the stable group cannot tell its topics.
        #expect(deletedOffsets.errorCode == KafkaErrorCode.nonEmptyGroup.rawValue)

        for version in LeaveGroupRequest.validVersions {
            let group = "g\(version)"
            let member = await coordinator.group(group)?.summary().members.first?.memberId ?? ""
            var request = LeaveGroupRequest(groupId: group)
            if version >= 3 { request.members = [.init(memberId: member), .init(memberId: "ghost")] } else { request.memberId = member }
            let left = await membership.leave(request, version: version)
            _ = try left.encoded(version: version)
            #expect(left.errorCode == 0)
            if version >= 3 { #expect(left.members.map(\.errorCode) == [0, KafkaErrorCode.unknownMemberId.rawValue]) }
        }
        for version in DeleteGroupsRequest.validVersions {
            let deleted = try await Self.deleteGroups(admin, ["g\(version)", "missing"], version: version)
            #expect(deleted.results.map(\.errorCode) == [0, KafkaErrorCode.groupIdNotFound.rawValue])
        }
    }

    static func deleteGroups(_ admin: GroupAdminHandlers, _ names: [String], version: Int16) async throws -> DeleteGroupsResponse {
        var results: [DeleteGroupsResponse.DeletableGroupResult] = []
        for name in names {
            results.append(.init(groupId: name, errorCode: await admin.coordinator.deleteGroup(name).rawValue))
        }
        let response = DeleteGroupsResponse(results: results)
        _ = try response.encoded(version: version)
        return response
    }
}
