import KafkaProtocol
import LogEngine

/// DescribeTransactions (key 65, v0) and ListTransactions (key 66, v0–1: state, producer id and, from v1,
/// duration filters) over the `TransactionCoordinator`'s current states. With an authorizer, as Kafka: a
/// transactional id needs DESCRIBE (described: else TRANSACTIONAL_ID_AUTHORIZATION_FAILED; listed: else left
/// out) and a described transaction shows only the topics the principal may DESCRIBE.
/// Thread-safe: the coordinator is an actor.
struct TransactionAdminHandlers: Sendable {
    let coordinator: TransactionCoordinator
    var access = AccessControl()

    func makeHandlers() -> [ApiHandler] {
        [
            ApiHandler(DescribeTransactionsRequest.self, response: DescribeTransactionsResponse.self, versions: 0...0) {
                request, context in
                let found = await coordinator.describe(request.transactionalIds)
                return DescribeTransactionsResponse(transactionStates: zip(request.transactionalIds, found).map { id, metadata in
                    guard access.allows(context, .describe, .transactionalId, id) else {
                        return .init(
                            errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue, transactionalId: id,
                            transactionState: "", transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1,
                            producerEpoch: -1, topics: [])
                    }
                    guard let metadata else {
                        return .init(
                            errorCode: KafkaErrorCode.transactionalIdNotFound.rawValue, transactionalId: id,
                            transactionState: "", transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1,
                            producerEpoch: -1, topics: [])
                    }
                    let byTopic = Dictionary(grouping: metadata.partitions, by: \.topic)
                    return .init(
                        errorCode: 0, transactionalId: id, transactionState: metadata.state.name,
                        transactionTimeoutMs: metadata.timeoutMs, transactionStartTimeMs: metadata.startTimestamp,
                        producerId: metadata.producerId, producerEpoch: metadata.producerEpoch,
                        topics: byTopic.keys.sorted().filter { access.allows(context, .describe, .topic, $0) }.map { topic in
                            .init(topic: topic, partitions: (byTopic[topic] ?? []).map(\.partition).sorted())
                        })
                })
            },
            ApiHandler(ListTransactionsRequest.self, response: ListTransactionsResponse.self, versions: 0...1) {
                request, context in
                let known = Set((0...7).compactMap { TransactionState(rawValue: Int8($0))?.name })
                let unknown = request.stateFilters.filter { !known.contains($0) }
                let listed = await coordinator.list(
                    states: Set(request.stateFilters), producerIds: Set(request.producerIdFilters),
                    minimumDurationMs: context.apiVersion >= 1 ? request.durationFilter : -1)
                return ListTransactionsResponse(
                    errorCode: 0, unknownStateFilters: unknown,
                    transactionStates: listed.filter {
                        access.allows(context, .describe, .transactionalId, $0.transactionalId)
                    }.map { .init(
                        transactionalId: $0.transactionalId, producerId: $0.producerId, transactionState: $0.state.name)
                    })
            },
        ]
    }
}

extension TransactionCoordinator {
    /// The states of `ids` (nil for an unknown id), in order.
    func describe(_ ids: [String]) -> [TransactionMetadata?] {
        ids.map { id in transactions[id].flatMap { $0.state == .dead ? nil : $0 } }
    }

    /// Kafka's ListTransactions filters: empty state or producer id sets match all; a duration (ms, ≥ 0) keeps
    /// only transactions running at least that long.
    func list(states: Set<String>, producerIds: Set<Int64>, minimumDurationMs: Int64) -> [TransactionMetadata] {
        let now = clock()
        return transactions.values.filter { metadata in
            guard metadata.state != .dead else { return false }
            if !states.isEmpty && !states.contains(metadata.state.name) { return false }
            if !producerIds.isEmpty && !producerIds.contains(metadata.producerId) { return false }
            if minimumDurationMs >= 0 {
                guard metadata.startTimestamp >= 0, now.saturatingSubtract(metadata.startTimestamp) >= minimumDurationMs
                else { return false }
            }
            return true
        }.sorted { $0.transactionalId < $1.transactionalId }
    }
}
