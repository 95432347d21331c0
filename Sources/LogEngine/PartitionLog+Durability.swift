import NIOCore

extension PartitionLog {
    /// Fsyncs every segment holding data at or after the recovery point, the producer snapshots written since the
    /// last flush, and the directory after new segments or snapshots were created; then advances the recovery
    /// point to the log end offset seen at the start. Runs the fsync without holding the append lock, so appends
    /// continue meanwhile.
    public func flush() throws {
        let (target, pending, syncDirectory, messages, snapshots) = writer.withLock { state in
            let point = recoveryPoint
            // Segments that may hold data at or after the recovery point: the active one, and every segment
            // whose successor starts after the recovery point.
            let current = state.segments
            let pending = current.indices.filter { index in
                index == current.count - 1 || current[index + 1].baseOffset > point
            }.map { current[$0] }
            let syncDirectory = state.directoryNeedsSync
            state.directoryNeedsSync = false
            let snapshots = state.unsyncedSnapshots
            state.unsyncedSnapshots = []
            return (logEndOffset, pending, syncDirectory, state.unflushedMessages, snapshots)
        }
        do {
            for segment in pending { try segment.flush() }
            for snapshot in snapshots { try FileSystem.sync(path: snapshot) }
            if syncDirectory { try FileSystem.syncDirectory(directory) }
        } catch {
            writer.withLock { state in
                if syncDirectory { state.directoryNeedsSync = true }
                state.unsyncedSnapshots = snapshots + state.unsyncedSnapshots
            }
            throw error
        }
        writer.withLock { state in
            publishRecoveryPoint(target)
            state.unflushedMessages = max(0, state.unflushedMessages - messages)
            state.firstUnflushedMs = state.unflushedMessages == 0 ? nil : clock.nowMs()
        }
    }

    /// Flushes when `flush.ms` has passed since the oldest unflushed append (call periodically).
    public func flushIfDue() throws {
        let due: Bool = writer.withLock { state in
            guard let first = state.firstUnflushedMs else { return false }
            return clock.nowMs() - first >= config.flushMs
        }
        if due { try flush() }
    }

    /// Appends like `append`, then returns once the batches are fsynced. The fsync runs on a dispatch queue,
    /// not on the caller's thread, and is shared: one fsync serves every append that arrived while the
    /// previous one ran (group commit).
    @discardableResult
    public func appendDurably(_ records: consuming ByteBuffer) async throws -> AppendInfo {
        let info = try append(records)
        try await waitUntilDurable(info.lastOffset + 1)
        return info
    }

    /// Returns once every offset below `offset` is fsynced.
    public func waitUntilDurable(_ offset: Int64) async throws {
        if recoveryPoint >= offset { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let start: Bool = groupCommit.withLock { round in
                round.waiters.append((offset, continuation))
                if round.inFlight { return false }
                round.inFlight = true
                return true
            }
            if start { syncQueue.async { self.runGroupCommit() } }
        }
    }

    /// Starts an fsync round for everything appended so far without waiting for it (`flush.messages`): a round
    /// already running runs once more. Waiters of `waitUntilDurable` share the rounds.
    func scheduleFlush() {
        let start: Bool = groupCommit.withLock { round in
            if round.inFlight {
                round.flushRequested = true
                return false
            }
            round.inFlight = true
            return true
        }
        if start { syncQueue.async { self.runGroupCommit() } }
    }

    /// One fsync per round; each round completes the waiters it covers, and runs again while waiters remain or
    /// another flush was scheduled meanwhile.
    private func runGroupCommit() {
        while true {
            var failure: Error? = nil
            do { try flush() } catch { failure = error }
            let point = recoveryPoint
            let (ready, more): ([CheckedContinuation<Void, Error>], Bool) = groupCommit.withLock { round in
                var ready: [CheckedContinuation<Void, Error>] = []
                var remaining: [(offset: Int64, continuation: CheckedContinuation<Void, Error>)] = []
                for waiter in round.waiters {
                    if failure != nil || waiter.offset <= point {
                        ready.append(waiter.continuation)
                    } else {
                        remaining.append(waiter)
                    }
                }
                round.waiters = remaining
                let again = !remaining.isEmpty || round.flushRequested
                round.flushRequested = false
                if !again { round.inFlight = false }
                return (ready, again)
            }
            for continuation in ready {
                if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
            }
            if !more { return }
        }
    }
}
