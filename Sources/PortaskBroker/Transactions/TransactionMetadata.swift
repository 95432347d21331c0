import LogEngine

/// A transaction's state as Kafka's coordinator stores it (`TransactionLogValue.TransactionStatus`):
/// ```
/// Empty ──AddPartitions──▶ Ongoing ──EndTxn──▶ PrepareCommit ──markers──▶ CompleteCommit
///   ▲                         │  └──EndTxn(abort) / fence / timeout──▶ PrepareAbort ──markers──▶ CompleteAbort
///   └──────── InitProducerId (epoch bump) ◀──────────────────────────────────────────────┘
/// ```
enum TransactionState: Int8, Sendable {
    case empty = 0
    case ongoing = 1
    case prepareCommit = 2
    case prepareAbort = 3
    case completeCommit = 4
    case completeAbort = 5
    case dead = 6
    case prepareEpochFence = 7

    /// Kafka's names (DescribeTransactions, ListTransactions).
    var name: String {
        switch self {
        case .empty: return "Empty"
        case .ongoing: return "Ongoing"
        case .prepareCommit: return "PrepareCommit"
        case .prepareAbort: return "PrepareAbort"
        case .completeCommit: return "CompleteCommit"
        case .completeAbort: return "CompleteAbort"
        case .dead: return "Dead"
        case .prepareEpochFence: return "PrepareEpochFence"
        }
    }
}

/// What the coordinator knows about one transactional id: the `TransactionLogValue` of `__transaction_state`
/// plus whether a state change is being written (`pending`, Kafka's pendingState: requests meanwhile get
/// CONCURRENT_TRANSACTIONS). A value type owned by the `TransactionCoordinator` actor.
struct TransactionMetadata: Sendable, Equatable {
    var transactionalId: String
    var producerId: Int64
    var producerEpoch: Int16
    var timeoutMs: Int32
    var state: TransactionState
    var partitions: Set<TopicPartition>
    var startTimestamp: Int64
    var lastUpdateTimestamp: Int64
    /// The epoch before the last KIP-360 bump (-1 after a plain InitProducerId), so a retried bump is answered
    /// with the current epoch; in memory only, as Kafka's `lastProducerEpoch` under transaction.version 1.
    var lastProducerEpoch: Int16 = -1
    /// The producer id before the last rotation at the epoch limit (-1 when none), in memory only.
    var previousProducerId: Int64 = -1
    var pending = false
}
