extension PartitionLog {
    /// Records the transactions an append's markers ended: each aborted one gets an entry in the active
    /// segment's `.txnindex` (fsynced by the next `flush`, like the marker) and in `abortedIndex`, with the
    /// last stable offset after it (Kafka's rule: the first offset of the earliest transaction still open,
    /// else the offset after the marker). Caller holds the writer lock, with the producer state already applied.
    func recordCompletedTransactions(
        _ completed: [ProducerStateManager.CompletedTransaction], end: Int64, state: inout WriterState
    ) throws {
        guard let active = state.segments.last else { return }
        for transaction in completed where transaction.isAborted {
            let entry = AbortedTransaction(
                producerId: transaction.producerId, firstOffset: transaction.firstOffset,
                lastOffset: transaction.lastOffset,
                lastStableOffset: state.producerState.firstUnstableOffset ?? (transaction.lastOffset + 1))
            try TransactionIndex.append(entry, directory: directory, baseOffset: active.baseOffset)
            let path = TransactionIndex.path(directory: directory, baseOffset: active.baseOffset)
            if !state.unsyncedSnapshots.contains(path) { state.unsyncedSnapshots.append(path) }
            state.directoryNeedsSync = true
            abortedIndex.withLock { $0.append(entry) }
        }
    }

    /// The aborted transactions a read_committed fetch of `[from, upTo)` must be told about (Kafka's
    /// `collectAbortedTransactions`): those whose marker is at or after `from` and that started before `upTo`.
    /// Thread-safety: callable from any thread; copies under a short lock.
    public func abortedTransactions(from: Int64, upTo: Int64) -> [AbortedTransaction] {
        abortedIndex.withLock { entries in
            entries.filter { $0.lastOffset >= from && $0.firstOffset < upTo }
        }
    }

    /// The open transactions of the partition: producer id → first offset (DescribeProducers).
    public var openTransactions: [Int64: Int64] {
        writer.withLock { $0.producerState.ongoing }
    }

    /// Forgets aborted transactions whose marker lies below `offset` (the log start after retention).
    func trimAbortedTransactions(below offset: Int64) {
        abortedIndex.withLock { entries in
            if let first = entries.first, first.lastOffset < offset { entries.removeAll { $0.lastOffset < offset } }
        }
    }

    /// Loads the `.txnindex` entries of `segments`: entries of segments the producer-state replay covered
    /// (at or after `replayStart`) are replaced by the replay's `rebuilt` ones, and those files rewritten, so a
    /// missing, torn or stale index is rebuilt by recovery. Returns every entry in marker order.
    static func loadTransactionIndexes(
        directory: String, segments: [LogSegment], replayStart: Int64, rebuilt: [AbortedTransaction]
    ) throws -> [AbortedTransaction] {
        var all: [AbortedTransaction] = []
        for (index, segment) in segments.enumerated() {
            let nextBase = index + 1 < segments.count ? segments[index + 1].baseOffset : Int64.max
            let stored = try TransactionIndex.read(directory: directory, baseOffset: segment.baseOffset)
            guard nextBase > replayStart else {
                all += stored
                continue
            }
            let kept = stored.filter { $0.lastOffset < replayStart }
            let fresh = rebuilt.filter { $0.lastOffset >= max(segment.baseOffset, replayStart) && $0.lastOffset < nextBase }
            let entries = kept + fresh
            if entries != stored {
                try TransactionIndex.rewrite(entries, directory: directory, baseOffset: segment.baseOffset)
            }
            all += entries
        }
        return all
    }
}
