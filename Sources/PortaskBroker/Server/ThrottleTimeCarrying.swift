import KafkaProtocol

/// A response that carries Kafka's `throttleTimeMs`: where the request-time quota puts its throttle time, in
/// whichever versions of the response have the field (the codec leaves it out of the others).
protocol ThrottleTimeCarrying {
    var throttleTimeMs: Int32 { get set }
}

extension KafkaResponseMessage {
    /// The response with its throttle time raised to at least `milliseconds` (unchanged when the response has no
    /// such field).
    func throttled(atLeast milliseconds: Int32) -> Self {
        guard milliseconds > 0, var carrying = self as? any ThrottleTimeCarrying else { return self }
        carrying.throttleTimeMs = max(carrying.throttleTimeMs, milliseconds)
        return carrying as? Self ?? self
    }
}

extension AddOffsetsToTxnResponse: ThrottleTimeCarrying {}
extension AddPartitionsToTxnResponse: ThrottleTimeCarrying {}
extension AddRaftVoterResponse: ThrottleTimeCarrying {}
extension AllocateProducerIdsResponse: ThrottleTimeCarrying {}
extension AlterClientQuotasResponse: ThrottleTimeCarrying {}
extension AlterConfigsResponse: ThrottleTimeCarrying {}
extension AlterPartitionReassignmentsResponse: ThrottleTimeCarrying {}
extension AlterPartitionResponse: ThrottleTimeCarrying {}
extension AlterReplicaLogDirsResponse: ThrottleTimeCarrying {}
extension AlterShareGroupOffsetsResponse: ThrottleTimeCarrying {}
extension AlterUserScramCredentialsResponse: ThrottleTimeCarrying {}
extension ApiVersionsResponse: ThrottleTimeCarrying {}
extension AssignReplicasToDirsResponse: ThrottleTimeCarrying {}
extension BrokerHeartbeatResponse: ThrottleTimeCarrying {}
extension BrokerRegistrationResponse: ThrottleTimeCarrying {}
extension ConsumerGroupDescribeResponse: ThrottleTimeCarrying {}
extension ConsumerGroupHeartbeatResponse: ThrottleTimeCarrying {}
extension ControllerRegistrationResponse: ThrottleTimeCarrying {}
extension CreateAclsResponse: ThrottleTimeCarrying {}
extension CreateDelegationTokenResponse: ThrottleTimeCarrying {}
extension CreatePartitionsResponse: ThrottleTimeCarrying {}
extension CreateTopicsResponse: ThrottleTimeCarrying {}
extension DeleteAclsResponse: ThrottleTimeCarrying {}
extension DeleteGroupsResponse: ThrottleTimeCarrying {}
extension DeleteRecordsResponse: ThrottleTimeCarrying {}
extension DeleteShareGroupOffsetsResponse: ThrottleTimeCarrying {}
extension DeleteTopicsResponse: ThrottleTimeCarrying {}
extension DescribeAclsResponse: ThrottleTimeCarrying {}
extension DescribeClientQuotasResponse: ThrottleTimeCarrying {}
extension DescribeClusterResponse: ThrottleTimeCarrying {}
extension DescribeConfigsResponse: ThrottleTimeCarrying {}
extension DescribeDelegationTokenResponse: ThrottleTimeCarrying {}
extension DescribeGroupsResponse: ThrottleTimeCarrying {}
extension DescribeLogDirsResponse: ThrottleTimeCarrying {}
extension DescribeProducersResponse: ThrottleTimeCarrying {}
extension DescribeShareGroupOffsetsResponse: ThrottleTimeCarrying {}
extension DescribeTopicPartitionsResponse: ThrottleTimeCarrying {}
extension DescribeTransactionsResponse: ThrottleTimeCarrying {}
extension DescribeUserScramCredentialsResponse: ThrottleTimeCarrying {}
extension ElectLeadersResponse: ThrottleTimeCarrying {}
extension EndTxnResponse: ThrottleTimeCarrying {}
extension ExpireDelegationTokenResponse: ThrottleTimeCarrying {}
extension FetchResponse: ThrottleTimeCarrying {}
extension FetchSnapshotResponse: ThrottleTimeCarrying {}
extension FindCoordinatorResponse: ThrottleTimeCarrying {}
extension GetTelemetrySubscriptionsResponse: ThrottleTimeCarrying {}
extension HeartbeatResponse: ThrottleTimeCarrying {}
extension IncrementalAlterConfigsResponse: ThrottleTimeCarrying {}
extension InitProducerIdResponse: ThrottleTimeCarrying {}
extension JoinGroupResponse: ThrottleTimeCarrying {}
extension LeaveGroupResponse: ThrottleTimeCarrying {}
extension ListConfigResourcesResponse: ThrottleTimeCarrying {}
extension ListGroupsResponse: ThrottleTimeCarrying {}
extension ListOffsetsResponse: ThrottleTimeCarrying {}
extension ListPartitionReassignmentsResponse: ThrottleTimeCarrying {}
extension ListTransactionsResponse: ThrottleTimeCarrying {}
extension MetadataResponse: ThrottleTimeCarrying {}
extension OffsetCommitResponse: ThrottleTimeCarrying {}
extension OffsetDeleteResponse: ThrottleTimeCarrying {}
extension OffsetFetchResponse: ThrottleTimeCarrying {}
extension OffsetForLeaderEpochResponse: ThrottleTimeCarrying {}
extension ProduceResponse: ThrottleTimeCarrying {}
extension PushTelemetryResponse: ThrottleTimeCarrying {}
extension RemoveRaftVoterResponse: ThrottleTimeCarrying {}
extension RenewDelegationTokenResponse: ThrottleTimeCarrying {}
extension ShareAcknowledgeResponse: ThrottleTimeCarrying {}
extension ShareFetchResponse: ThrottleTimeCarrying {}
extension ShareGroupDescribeResponse: ThrottleTimeCarrying {}
extension ShareGroupHeartbeatResponse: ThrottleTimeCarrying {}
extension StreamsGroupDescribeResponse: ThrottleTimeCarrying {}
extension StreamsGroupHeartbeatResponse: ThrottleTimeCarrying {}
extension SyncGroupResponse: ThrottleTimeCarrying {}
extension TxnOffsetCommitResponse: ThrottleTimeCarrying {}
extension UnregisterBrokerResponse: ThrottleTimeCarrying {}
extension UpdateFeaturesResponse: ThrottleTimeCarrying {}
extension UpdateRaftVoterResponse: ThrottleTimeCarrying {}
