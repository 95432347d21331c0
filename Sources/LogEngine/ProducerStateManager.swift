/// The idempotent producers of one partition and Kafka's rules for their batches.
///
/// Rules applied to a client batch with `producerId >= 0` (as Kafka 2.5+ applies them):
/// - a batch with the producer's current epoch and the same first and last sequence as one of its retained
///   batches is a duplicate: it is answered with the retained batch's offsets and not appended again;
/// - an epoch older than the producer's current one is rejected (`invalidProducerEpoch`);
/// - a newer epoch must start at sequence 0 (`outOfOrderSequence`), unless the producer is unknown;
/// - within an epoch the first sequence must follow the last one (`Int32.max` is followed by 0), otherwise
///   `outOfOrderSequence`;
/// - an unknown producer (never seen, expired, or its state lost with the data) is accepted at any sequence,
///   as Kafka does since KIP-360, so `UNKNOWN_PRODUCER_ID` is never the answer.
///
/// Thread-safety: a value type; the owning `PartitionLog` guards its copy with the partition's write lock, so
/// the checks and the append they precede are one atomic step.
public struct ProducerStateManager: Sendable, Equatable {
    /// The producers, by producer id.
    public internal(set) var producers: [Int64: ProducerStateEntry] = [:]
    /// The open transactions: producer id → offset of the transaction's first batch in this partition.
    public private(set) var ongoing: [Int64: Int64] = [:]

    public init(producers: [Int64: ProducerStateEntry] = [:]) {
        self.producers = producers
        for (id, entry) in producers where entry.currentTxnFirstOffset >= 0 { ongoing[id] = entry.currentTxnFirstOffset }
    }

    /// The first offset of the earliest open transaction (the last stable offset), nil when none is open.
    public var firstUnstableOffset: Int64? { ongoing.values.min() }

    /// The retained batch that the client batch `header` duplicates, if any.
    public func duplicate(of header: RecordBatchHeader) -> ProducerStateEntry.Batch? {
        guard header.producerId >= 0, header.baseSequence >= 0, let entry = producers[header.producerId] else {
            return nil
        }
        let last = ProducerStateEntry.incrementSequence(header.baseSequence, by: header.lastOffsetDelta)
        return entry.duplicate(epoch: header.producerEpoch, firstSequence: header.baseSequence, lastSequence: last)
    }

    /// Replaces the entries of the producers an append touched.
    public mutating func apply(_ append: Append) {
        for (producerId, entry) in append.updates {
            producers[producerId] = entry
            if entry.currentTxnFirstOffset >= 0 {
                ongoing[producerId] = entry.currentTxnFirstOffset
            } else {
                ongoing.removeValue(forKey: producerId)
            }
        }
    }

    /// Forgets producers whose last batch is at least `expirationMs` older than `nowMs`
    /// (`producer.id.expiration.ms`). Returns how many were removed.
    @discardableResult
    public mutating func removeExpired(nowMs: Int64, expirationMs: Int64) -> Int {
        let expired = producers.values.filter { $0.currentTxnFirstOffset < 0 && nowMs.saturatingSubtract($0.lastTimestamp) >= expirationMs }
        for entry in expired { producers.removeValue(forKey: entry.producerId) }
        return expired.count
    }

    /// Checks one batch whose offsets start at `firstOffset` and stages its effect in `pending`. With `validate`
    /// (client appends), Kafka's epoch and sequence rules are enforced against the stored state plus the
    /// batches staged before it; without (rebuilding from the log), batches are taken as they are. Batches
    /// without a producer id are ignored. Nothing changes here until `apply`.
    ///
    /// - Throws: `invalidArgument` for a producer id with a negative sequence, `invalidProducerEpoch`,
    ///   `outOfOrderSequence`.
    public func stage(
        _ header: RecordBatchHeader, firstOffset: Int64, timestamp: Int64, validate: Bool, into pending: inout Append,
        context: String = ""
    ) throws {
        let producerId = header.producerId
        guard producerId >= 0 else { return }
        let epoch = header.producerEpoch
        let firstSequence = header.baseSequence
        if validate && firstSequence < 0 {
            throw LogEngineError(
                .invalidArgument, "invalid sequence number \(firstSequence) in a batch of producer \(producerId)",
                context: context)
        }
        var entry = pending.updates[producerId] ?? producers[producerId]
            ?? ProducerStateEntry(producerId: producerId, producerEpoch: -1)
        if validate {
            try Self.check(
                entry, storedEpoch: producers[producerId]?.producerEpoch ?? -1, epoch: epoch,
                firstSequence: firstSequence, offset: firstOffset, context: context)
        }
        let batch = ProducerStateEntry.Batch(
            firstSequence: firstSequence,
            lastSequence: ProducerStateEntry.incrementSequence(firstSequence, by: header.lastOffsetDelta),
            firstOffset: firstOffset, lastOffset: firstOffset &+ Int64(header.lastOffsetDelta), timestamp: timestamp)
        entry.add(epoch: epoch, batch: batch)
        // A transactional batch opens the producer's transaction in this partition (until its marker).
        if header.isTransactional && entry.currentTxnFirstOffset < 0 { entry.currentTxnFirstOffset = firstOffset }
        pending.updates[producerId] = entry
    }

    /// Stages a transaction marker (control batch) of `producerId` at `offset`: the producer's open transaction
    /// ends there. A marker with a newer epoch (written after an epoch bump) moves the producer to it. Returns
    /// the completed transaction; its first offset is the marker's own when no transaction was open.
    ///
    /// - Throws: `invalidProducerEpoch` when `validate` and the epoch is older than the producer's.
    public func stageMarker(
        producerId: Int64, epoch: Int16, commit: Bool, coordinatorEpoch: Int32, offset: Int64, timestamp: Int64,
        validate: Bool, into pending: inout Append, context: String = ""
    ) throws -> CompletedTransaction {
        var entry = pending.updates[producerId] ?? producers[producerId]
            ?? ProducerStateEntry(producerId: producerId, producerEpoch: epoch)
        if validate && epoch < entry.producerEpoch {
            throw LogEngineError(
                .invalidProducerEpoch,
                "marker epoch \(epoch) of producer \(producerId) is older than its current epoch \(entry.producerEpoch)",
                context: context)
        }
        if epoch != entry.producerEpoch {
            entry.producerEpoch = epoch
            entry.batches.removeAll()
        }
        let first = entry.currentTxnFirstOffset >= 0 ? entry.currentTxnFirstOffset : offset
        entry.currentTxnFirstOffset = -1
        entry.coordinatorEpoch = coordinatorEpoch
        entry.lastTimestamp = timestamp
        pending.updates[producerId] = entry
        let completed = CompletedTransaction(producerId: producerId, firstOffset: first, lastOffset: offset, isAborted: !commit)
        pending.completed.append(completed)
        return completed
    }

    /// A transaction ended by a marker in this partition (Kafka's CompletedTxn).
    public struct CompletedTransaction: Sendable, Equatable {
        public var producerId: Int64
        public var firstOffset: Int64
        public var lastOffset: Int64
        public var isAborted: Bool
    }

    /// Kafka's checks of one data batch; `entry` includes the batches staged before it in the same request,
    /// `storedEpoch` is the producer's epoch before the request (-1 when unknown: then any sequence is accepted).
    private static func check(
        _ entry: ProducerStateEntry, storedEpoch: Int16, epoch: Int16, firstSequence: Int32, offset: Int64,
        context: String
    ) throws {
        let producerId = entry.producerId
        if epoch < entry.producerEpoch {
            throw LogEngineError(
                .invalidProducerEpoch,
                "epoch \(epoch) of producer \(producerId) at offset \(offset) is older than its current epoch "
                    + "\(entry.producerEpoch)", context: context)
        }
        if epoch != entry.producerEpoch {
            // A new epoch starts at 0, unless the producer is unknown.
            if firstSequence != 0 && entry.producerEpoch >= 0 {
                throw LogEngineError(
                    .outOfOrderSequence,
                    "new epoch \(epoch) of producer \(producerId) starts at sequence \(firstSequence), not 0 "
                        + "(current epoch \(entry.producerEpoch))", context: context)
            }
        } else if storedEpoch >= 0 && !ProducerStateEntry.inSequence(last: entry.lastSequence, next: firstSequence) {
            throw LogEngineError(
                .outOfOrderSequence,
                "out of order sequence number for producer \(producerId) at offset \(offset): \(firstSequence) "
                    + "(incoming), \(entry.lastSequence) (current end)", context: context)
        }
    }

    /// The staged producer changes of one append (Kafka's ProducerAppendInfo). It holds no reference to the
    /// manager, so `apply` updates the manager's storage in place.
    public struct Append: Sendable {
        /// The entries of the touched producers as they will be after the append.
        public internal(set) var updates: [Int64: ProducerStateEntry] = [:]
        /// The transactions the append's markers ended, in log order.
        public internal(set) var completed: [CompletedTransaction] = []

        public init() {}
    }
}
