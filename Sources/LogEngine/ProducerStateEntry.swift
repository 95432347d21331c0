/// What a partition remembers about one idempotent producer: its epoch and its last batches (at most
/// `ProducerStateEntry.retainedBatches`, oldest first), used to detect duplicates and sequence gaps.
///
/// Thread-safety: a `Sendable` value type.
public struct ProducerStateEntry: Sendable, Equatable {
    /// One appended batch of the producer: its sequence range, offset range and max timestamp.
    public struct Batch: Sendable, Equatable {
        public var firstSequence: Int32
        public var lastSequence: Int32
        public var firstOffset: Int64
        public var lastOffset: Int64
        public var timestamp: Int64

        public init(firstSequence: Int32, lastSequence: Int32, firstOffset: Int64, lastOffset: Int64, timestamp: Int64) {
            self.firstSequence = firstSequence
            self.lastSequence = lastSequence
            self.firstOffset = firstOffset
            self.lastOffset = lastOffset
            self.timestamp = timestamp
        }

        /// `lastOffset - firstOffset`, which is also the number of sequences after the first.
        public var offsetDelta: Int32 { Int32(truncatingIfNeeded: lastOffset - firstOffset) }
    }

    /// How many batches per producer are kept for duplicate detection (Kafka's producer in-flight limit).
    public static let retainedBatches = 5

    public var producerId: Int64
    public var producerEpoch: Int16
    /// The producer's last batches, oldest first.
    public var batches: [Batch]
    /// Max timestamp of the producer's last batch (drives `producer.id.expiration.ms`).
    public var lastTimestamp: Int64
    /// Epoch of the transaction coordinator that wrote the producer's last marker; -1 before any.
    public var coordinatorEpoch: Int32
    /// First offset of the producer's open transaction in this partition; -1 when none is open.
    public var currentTxnFirstOffset: Int64

    public init(
        producerId: Int64, producerEpoch: Int16, batches: [Batch] = [], lastTimestamp: Int64 = -1,
        coordinatorEpoch: Int32 = -1, currentTxnFirstOffset: Int64 = -1
    ) {
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.batches = batches
        self.lastTimestamp = lastTimestamp
        self.coordinatorEpoch = coordinatorEpoch
        self.currentTxnFirstOffset = currentTxnFirstOffset
    }

    /// Last sequence of the newest batch, -1 when none is known.
    public var lastSequence: Int32 { batches.last?.lastSequence ?? -1 }
    /// Last offset of the newest batch, -1 when none is known.
    public var lastOffset: Int64 { batches.last?.lastOffset ?? -1 }

    /// The retained batch of the same epoch with exactly this sequence range, if any.
    public func duplicate(epoch: Int16, firstSequence: Int32, lastSequence: Int32) -> Batch? {
        guard epoch == producerEpoch else { return nil }
        return batches.first { $0.firstSequence == firstSequence && $0.lastSequence == lastSequence }
    }

    /// Records an appended batch: a new epoch forgets the batches of the old one; the oldest batch beyond
    /// `retainedBatches` is dropped.
    mutating func add(epoch: Int16, batch: Batch) {
        if epoch != producerEpoch {
            producerEpoch = epoch
            batches.removeAll()
        }
        batches.append(batch)
        if batches.count > Self.retainedBatches { batches.removeFirst(batches.count - Self.retainedBatches) }
        lastTimestamp = batch.timestamp
    }

    /// `sequence + increment`, wrapping past `Int32.max` to 0 as Kafka's sequence numbers do. Total: values
    /// outside the valid ranges (from a damaged snapshot or an unvalidated header) wrap as Kafka's Java `int`
    /// arithmetic does instead of trapping.
    public static func incrementSequence(_ sequence: Int32, by increment: Int32) -> Int32 {
        if sequence > Int32.max &- increment { return increment &- (Int32.max &- sequence) &- 1 }
        return sequence &+ increment
    }

    /// `sequence - decrement`, wrapping below 0 to `Int32.max`; total like `incrementSequence`.
    public static func decrementSequence(_ sequence: Int32, by decrement: Int32) -> Int32 {
        if sequence < decrement { return Int32.max &- (decrement &- sequence) &+ 1 }
        return sequence &- decrement
    }

    /// Whether `next` directly follows `last` (0 follows `Int32.max`).
    static func inSequence(last: Int32, next: Int32) -> Bool {
        Int64(next) == Int64(last) + 1 || (next == 0 && last == Int32.max)
    }
}
