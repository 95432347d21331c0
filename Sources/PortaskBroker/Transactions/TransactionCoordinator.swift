import KafkaProtocol
import LogEngine
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The transaction coordinator (Kafka's `TransactionCoordinator` with transaction.version 1): this broker
/// coordinates every transactional id. State lives in `__transaction_state` (`TransactionStateTopic`); every
/// state change is durable before the request is answered, and everything is reloaded at start-up, where
/// transactions left in PrepareCommit/PrepareAbort get their markers written again.
///
/// Ending a transaction: PrepareCommit/PrepareAbort is written, then a marker (control batch) is appended
/// durably to every partition of the transaction, `__consumer_offsets` included (whose pending transactional
/// offsets then apply or drop), then CompleteCommit/CompleteAbort; EndTxn is answered after that. While a state
/// change is being written, other requests for the same id get CONCURRENT_TRANSACTIONS.
///
/// Thread-safety: an actor for the transaction states; `verified` (which producer epoch may write transactional
/// batches to which partitions, read by Produce on any thread) is a lock-protected copy kept by the actor.
actor TransactionCoordinator {
    let topics: TopicManager
    let producerIds: ProducerIdManager
    let groups: GroupCoordinator
    let stateTopic: TransactionStateTopic
    let maxTimeoutMs: Int32
    /// `transactional.id.expiration.ms`.
    let expirationMs: Int64
    let logger: Logger
    let clock: @Sendable () -> Int64
    /// `test.transaction.marker.delay.ms`: a fault point for crash tests; when positive, marker writing pauses
    /// this long after the first partition's marker is durable (0, the default, costs one comparison).
    let markerDelayMs: Int64
    var transactions: [String: TransactionMetadata] = [:]
    /// Producer id → (epoch, partitions of its ongoing transaction), for Produce's check.
    nonisolated let verified = NIOLockedValueBox<[Int64: (epoch: Int16, partitions: Set<TopicPartition>)]>([:])
    /// Bound on transactional ids kept (Kafka has none besides expiry; each id costs a few hundred bytes).
    static let maxTransactionalIds = 1_000_000

    init(
        topics: TopicManager, producerIds: ProducerIdManager, groups: GroupCoordinator, partitions: Int,
        maxTimeoutMs: Int32, expirationMs: Int64 = 604_800_000, markerDelayMs: Int64 = 0, logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.expirationMs = expirationMs
        self.markerDelayMs = markerDelayMs
        self.topics = topics
        self.producerIds = producerIds
        self.groups = groups
        self.stateTopic = TransactionStateTopic(topics: topics, partitions: partitions)
        self.maxTimeoutMs = maxTimeoutMs
        self.logger = logger
        self.clock = clock
    }

    /// Creates `__transaction_state` when missing (FindCoordinator for a transactional id).
    nonisolated func ensureStateTopic() throws {
        try stateTopic.ensureCreated()
    }

    /// Produce's check (KIP-890 part 1): may `producerId`/`epoch` write a transactional batch to `partition`?
    /// nil when yes, else the error to answer.
    nonisolated func verify(producerId: Int64, epoch: Int16, partition: TopicPartition) -> KafkaErrorCode? {
        verified.withLockedValue { table in
            guard let entry = table[producerId] else { return .invalidTxnState }
            if epoch < entry.epoch { return .invalidProducerEpoch }
            guard epoch == entry.epoch, entry.partitions.contains(partition) else { return .invalidTxnState }
            return nil
        }
    }

    /// Loads every transaction and completes those left between prepare and complete.
    func start() async {
        var report = OffsetsTopicLoadReport()
        transactions = stateTopic.loadAll(&report)
        if !report.isEmpty {
            logger.warning("skipped unreadable \(TransactionStateTopic.name) data", metadata: [
                "firstProblems": "\(report.problems.joined(separator: "; "))",
            ])
        }
        for (id, metadata) in transactions {
            switch metadata.state {
            case .ongoing, .empty, .completeCommit, .completeAbort:
                publishVerified(metadata)
            case .prepareCommit, .prepareAbort:
                _ = await completeTransaction(id, commit: metadata.state == .prepareCommit, prepared: metadata)
            case .dead, .prepareEpochFence:
                break
            }
        }
        if !transactions.isEmpty {
            logger.info("loaded transactions", metadata: ["transactionalIds": "\(transactions.count)"])
        }
    }

    func publishVerified(_ metadata: TransactionMetadata) {
        // Kept after the transaction ends (without partitions), so an older epoch is told it is fenced.
        verified.withLockedValue { table in
            table[metadata.producerId] = (metadata.producerEpoch, metadata.state == .ongoing ? metadata.partitions : [])
        }
    }

    /// Writes `next` as the state of its id (durably) and adopts it; on failure the old state stays.
    func persist(_ next: TransactionMetadata) async -> KafkaErrorCode {
        let id = next.transactionalId
        transactions[id]?.pending = true
        do {
            try await stateTopic.write(next, now: clock())
        } catch {
            transactions[id]?.pending = false
            logger.error("cannot write transaction state", metadata: ["transactionalId": "\(id)", "error": "\(error)"])
            return .coordinatorNotAvailable
        }
        var adopted = next
        adopted.pending = false
        transactions[id] = adopted
        publishVerified(adopted)
        return .noError
    }

    /// The outcome of `check`.
    enum Checked {
        case current(TransactionMetadata)
        case refused(KafkaErrorCode)
    }

    /// Checks a request's producer id and epoch against the transaction (Kafka's coordinator rules).
    func check(_ id: String, producerId: Int64, epoch: Int16) -> Checked {
        guard let metadata = transactions[id] else { return .refused(.invalidProducerIdMapping) }
        guard metadata.producerId == producerId else { return .refused(.invalidProducerIdMapping) }
        guard metadata.producerEpoch == epoch else { return .refused(.producerFenced) }
        guard !metadata.pending else { return .refused(.concurrentTransactions) }
        return .current(metadata)
    }
}
