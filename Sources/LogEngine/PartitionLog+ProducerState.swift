extension PartitionLog {
    /// What opening a log found out about its producers.
    struct LoadedProducerState {
        var state: ProducerStateManager
        /// Offset of the newest snapshot file kept on disk.
        var snapshotOffset: Int64?
        /// Whether the state differs from that snapshot (batches after it were scanned, producers expired).
        var changed: Bool
        /// What was found wrong and set aside (unreadable snapshots), for the broker's log.
        var warnings: [String] = []
        /// The aborted transactions of every segment's `.txnindex`, those of replayed segments rebuilt.
        var aborted: [AbortedTransaction] = []
    }

    /// The idempotent and transactional producers of the partition, by producer id (DescribeProducers).
    /// Thread-safety: callable from any thread; takes the write lock briefly.
    public var activeProducers: [ProducerStateEntry] {
        writer.withLock { $0.producerState.producers.values.sorted { $0.producerId < $1.producerId } }
    }

    /// Forgets producers idle for `producer.id.expiration.ms`. Returns how many were removed.
    @discardableResult
    public func removeExpiredProducers() -> Int {
        writer.withLock { state in
            let removed = state.producerState.removeExpired(
                nowMs: clock.nowMs(), expirationMs: config.producerIdExpirationMs)
            if removed > 0 { state.producerStateChanged = true }
            return removed
        }
    }

    /// Writes a producer snapshot at the log end offset when the producer state changed and everything below
    /// the log end is fsynced (so the snapshot never describes batches a crash could lose); the snapshot itself
    /// is fsynced by the next `flush`. Periodic (`LogManager.runMaintenance`).
    public func snapshotProducerStateIfFlushed() throws {
        try writer.withLock { state in
            guard !state.closed, state.producerStateChanged, recoveryPoint >= logEndOffset else { return }
            try takeProducerSnapshot(&state)
        }
    }

    /// Writes `<logEndOffset>.snapshot` (see `ProducerStateSnapshot`) unless the newest snapshot already
    /// describes the current state at this offset, then deletes all but the two newest snapshot files.
    /// Without `durable` no fsync runs under the lock: the file is fsynced by the next `flush`, and until then
    /// a power loss can only lose or tear it (a torn file fails its CRC and an older snapshot or a replay of the
    /// log takes its place). Caller holds the writer lock.
    func takeProducerSnapshot(_ state: inout WriterState, durable: Bool = false) throws {
        let offset = logEndOffset
        if state.producerSnapshotOffset == offset && !state.producerStateChanged { return }
        let path = ProducerStateSnapshot.path(directory: directory, offset: offset)
        try FileSystem.writeAtomically(
            bytes: ProducerStateSnapshot.encode(state.producerState), to: path, directory: directory, durable: durable)
        if !durable {
            state.unsyncedSnapshots.append(path)
            state.directoryNeedsSync = true
        }
        state.producerSnapshotOffset = offset
        state.producerStateChanged = false
        for old in try ProducerStateSnapshot.offsets(in: directory).dropLast(2) {
            try FileSystem.unlink(ProducerStateSnapshot.path(directory: directory, offset: old))
        }
    }

    /// Rebuilds the producer state when the log is opened: snapshot files above the log end offset (left
    /// behind when a crash cut the log) and unreadable ones are deleted; the newest remaining snapshot is
    /// loaded and the batch headers after its offset are replayed. Without a snapshot every batch is replayed.
    static func loadProducerState(
        directory: String, segments: [LogSegment], logEndOffset: Int64, nowMs: Int64, config: LogConfig
    ) throws -> LoadedProducerState {
        var offsets = try ProducerStateSnapshot.offsets(in: directory)
        for offset in offsets where offset > logEndOffset {
            try FileSystem.unlink(ProducerStateSnapshot.path(directory: directory, offset: offset))
        }
        offsets.removeAll { $0 > logEndOffset }
        var state = ProducerStateManager()
        var warnings: [String] = []
        var start = Int64.min
        var snapshotOffset: Int64? = nil
        for offset in offsets.reversed() {
            let path = ProducerStateSnapshot.path(directory: directory, offset: offset)
            do {
                guard let bytes = try FileSystem.readBytes(path) else { continue }
                state = try ProducerStateSnapshot.decode(bytes, path: path)
                start = offset
                snapshotOffset = offset
                break
            } catch let error as LogEngineError where error.code == .corruptIndex {
                // Kept for inspection under another name; the state is rebuilt from an older snapshot or the log.
                let aside = path + ".corrupt"
                if (try? FileSystem.rename(path, aside)) == nil { try FileSystem.unlink(path) }
                warnings.append("producer snapshot \(path) is unreadable (\(error.message)); moved to \(aside)")
            }
        }
        var replay = ProducerStateManager.Append()
        var replayed = 0
        var aborted: [AbortedTransaction] = []
        for (index, segment) in segments.enumerated() {
            let nextBase = index + 1 < segments.count ? segments[index + 1].baseOffset : Int64.max
            guard nextBase > start else { continue }
            try segment.ensureLoaded()
            let (mapping, bytes) = try segment.view()
            try withExtendedLifetime(mapping) {
                var position = 0
                if segment.baseOffset < start {
                    position = segment.locate(start, in: bytes)?.position ?? bytes.count
                }
                // Segments below the recovery point were not rescanned: check what the replay relies on.
                for batch in RecordBatchSequence(bytes, from: position, check: .structure) {
                    let header = batch.header
                    guard header.hasStorableBaseOffset else { break }
                    guard header.baseOffset >= start && header.producerId >= 0 else { continue }
                    if header.isControl {
                        guard let marker = ControlRecord.parse(header, in: bytes, at: batch.position) else { continue }
                        let completed = try state.stageMarker(
                            producerId: header.producerId, epoch: header.producerEpoch, commit: marker.isCommit,
                            coordinatorEpoch: marker.coordinatorEpoch, offset: header.baseOffset,
                            timestamp: header.maxTimestamp, validate: false, into: &replay)
                        // Applied at once, so the entry's last stable offset sees the transactions still open.
                        state.apply(replay)
                        replay = ProducerStateManager.Append()
                        if completed.isAborted {
                            aborted.append(AbortedTransaction(
                                producerId: completed.producerId, firstOffset: completed.firstOffset,
                                lastOffset: completed.lastOffset,
                                lastStableOffset: state.firstUnstableOffset ?? (completed.lastOffset + 1)))
                        }
                    } else {
                        try state.stage(
                            header, firstOffset: header.baseOffset, timestamp: header.maxTimestamp, validate: false,
                            into: &replay)
                    }
                    replayed += 1
                }
            }
        }
        state.apply(replay)
        let expired = state.removeExpired(nowMs: nowMs, expirationMs: config.producerIdExpirationMs)
        let index = try loadTransactionIndexes(
            directory: directory, segments: segments, replayStart: max(start, 0), rebuilt: aborted)
        return LoadedProducerState(
            state: state, snapshotOffset: snapshotOffset, changed: replayed > 0 || expired > 0, warnings: warnings,
            aborted: index)
    }
}
