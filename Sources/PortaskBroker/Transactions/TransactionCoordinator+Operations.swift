import KafkaProtocol
import LogEngine
import NIOCore

extension TransactionCoordinator {
    /// InitProducerId with a transactional id: a new producer id (epoch 0) for a new id; otherwise the epoch is
    /// bumped, which fences every older producer of the id. An open transaction is aborted first (its markers
    /// carry an already bumped epoch). At the epoch limit a new producer id is taken, as Kafka rotates.
    ///
    /// KIP-360: a producer that gives its current id and epoch (after an abortable error) gets the epoch bumped
    /// and stays the owner; giving the epoch before the last such bump (a retry whose answer was lost) returns
    /// the current id and epoch unchanged; any other id or epoch is PRODUCER_FENCED. A plain InitProducerId
    /// forgets the last epoch, so a fenced producer's retry cannot pass. Returns (error, producer id, epoch).
    func initProducerId(
        _ id: String, timeoutMs: Int32, producerId expectedId: Int64, producerEpoch expectedEpoch: Int16
    ) async -> (KafkaErrorCode, Int64, Int16) {
        guard timeoutMs > 0, timeoutMs <= maxTimeoutMs else { return (.invalidTransactionTimeout, -1, -1) }
        let now = clock()
        guard var metadata = transactions[id] else {
            guard transactions.count < Self.maxTransactionalIds else { return (.coordinatorNotAvailable, -1, -1) }
            guard let producerId = try? producerIds.allocate() else { return (.coordinatorNotAvailable, -1, -1) }
            let fresh = TransactionMetadata(
                transactionalId: id, producerId: producerId, producerEpoch: 0, timeoutMs: timeoutMs, state: .empty,
                partitions: [], startTimestamp: -1, lastUpdateTimestamp: now)
            let error = await persist(fresh)
            return error == .noError ? (.noError, producerId, 0) : (error, -1, -1)
        }
        if metadata.pending { return (.concurrentTransactions, -1, -1) }
        let expected = expectedId >= 0 ? expectedEpoch : nil
        if expected != nil {
            // Kafka's isValidProducerId: the current id, or the id before a rotation with its exhausted epoch.
            let valid = metadata.producerEpoch < 0 || expectedId == metadata.producerId
                || (expectedId == metadata.previousProducerId && !Self.canBump(expectedEpoch))
            guard valid else { return (.producerFenced, -1, -1) }
        }
        var currentEpoch = metadata.producerEpoch
        switch metadata.state {
        case .prepareCommit, .prepareAbort, .prepareEpochFence:
            return (.concurrentTransactions, -1, -1)
        case .ongoing:
            if let expected, expected != metadata.producerEpoch { return (.producerFenced, -1, -1) }
            // Fence the producer of the open transaction, then abort it with the bumped epoch.
            let fencedEpoch = Self.canBump(metadata.producerEpoch) ? metadata.producerEpoch + 1 : metadata.producerEpoch
            let error = await completeTransaction(id, commit: false, prepared: nil, fencedEpoch: fencedEpoch)
            guard error == .noError, let after = transactions[id] else { return (.concurrentTransactions, -1, -1) }
            metadata = after
            currentEpoch = expected ?? metadata.producerEpoch
        default:
            if let expected, expected != metadata.producerEpoch, metadata.producerEpoch >= 0 {
                // A retry of a bump whose answer was lost: the bump stands.
                guard expected == metadata.lastProducerEpoch else { return (.producerFenced, -1, -1) }
                return (.noError, metadata.producerId, metadata.producerEpoch)
            }
        }
        var next = metadata
        if Self.canBump(metadata.producerEpoch) {
            next.producerEpoch = metadata.producerEpoch + 1
        } else {
            guard let producerId = try? producerIds.allocate() else { return (.coordinatorNotAvailable, -1, -1) }
            next.previousProducerId = metadata.producerId
            next.producerId = producerId
            next.producerEpoch = 0
        }
        next.lastProducerEpoch = expected != nil ? currentEpoch : -1
        next.timeoutMs = timeoutMs
        next.state = .empty
        next.partitions = []
        next.startTimestamp = -1
        next.lastUpdateTimestamp = now
        let error = await persist(next)
        return error == .noError ? (.noError, next.producerId, next.producerEpoch) : (error, -1, -1)
    }

    static func canBump(_ epoch: Int16) -> Bool { epoch >= 0 && epoch < Int16.max - 1 }

    /// AddPartitionsToTxn / AddOffsetsToTxn: the partitions join the ongoing transaction (which starts here).
    func addPartitions(_ id: String, producerId: Int64, epoch: Int16, _ partitions: Set<TopicPartition>) async
        -> KafkaErrorCode
    {
        let metadata: TransactionMetadata
        switch check(id, producerId: producerId, epoch: epoch) {
        case .refused(let error): return error
        case .current(let found): metadata = found
        }
        switch metadata.state {
        case .prepareCommit, .prepareAbort, .prepareEpochFence: return .concurrentTransactions
        case .dead: return .invalidProducerIdMapping
        default: break
        }
        if metadata.state == .ongoing && partitions.isSubset(of: metadata.partitions) { return .noError }
        var next = metadata
        let now = clock()
        if metadata.state != .ongoing {
            next.partitions = []
            next.startTimestamp = now
        }
        next.state = .ongoing
        next.partitions.formUnion(partitions)
        next.lastUpdateTimestamp = now
        return await persist(next)
    }

    /// EndTxn: commits or aborts the ongoing transaction; a retry of a completed end answers success.
    func endTransaction(_ id: String, producerId: Int64, epoch: Int16, commit: Bool) async -> KafkaErrorCode {
        let metadata: TransactionMetadata
        switch check(id, producerId: producerId, epoch: epoch) {
        case .refused(let error): return error
        case .current(let found): metadata = found
        }
        switch metadata.state {
        case .ongoing:
            return await completeTransaction(id, commit: commit, prepared: nil)
        case .completeCommit:
            return commit ? .noError : .invalidTxnState
        case .completeAbort:
            return commit ? .invalidTxnState : .noError
        case .prepareCommit, .prepareAbort, .prepareEpochFence:
            return .concurrentTransactions
        case .empty, .dead:
            return .invalidTxnState
        }
    }

    /// Ends the transaction of `id`: writes PrepareCommit/PrepareAbort (unless `prepared`, a state loaded in
    /// that phase), the markers, then CompleteCommit/CompleteAbort. `fencedEpoch` (an abort that fences the
    /// producer) is the bumped epoch the markers and states carry.
    func completeTransaction(
        _ id: String, commit: Bool, prepared: TransactionMetadata?, fencedEpoch: Int16? = nil
    ) async -> KafkaErrorCode {
        var metadata: TransactionMetadata
        if let prepared {
            metadata = prepared
        } else {
            guard let current = transactions[id] else { return .invalidProducerIdMapping }
            metadata = current
            metadata.state = commit ? .prepareCommit : .prepareAbort
            if let fencedEpoch { metadata.producerEpoch = fencedEpoch }
            metadata.lastUpdateTimestamp = clock()
            let error = await persist(metadata)
            guard error == .noError else { return error }
        }
        transactions[id]?.pending = true
        verified.withLockedValue { $0[metadata.producerId] = (metadata.producerEpoch, []) }
        let failed = await writeMarkers(metadata, commit: commit)
        transactions[id]?.pending = false
        if !failed.isEmpty {
            // The prepared state stays: the markers are written again at the next start-up.
            logger.error("cannot write transaction markers", metadata: [
                "transactionalId": "\(id)", "partitions": "\(failed.map(\.description))",
            ])
            return .coordinatorNotAvailable
        }
        var complete = metadata
        complete.state = commit ? .completeCommit : .completeAbort
        complete.partitions = []
        complete.lastUpdateTimestamp = clock()
        return await persist(complete)
    }

    /// Appends the marker to every partition of the transaction durably; returns the partitions that failed.
    /// Partitions whose topic is gone are skipped, as Kafka drops their markers.
    func writeMarkers(_ metadata: TransactionMetadata, commit: Bool) async -> [TopicPartition] {
        let marker: [UInt8]
        do {
            marker = try ControlRecord(isCommit: commit, coordinatorEpoch: 0).batch(
                producerId: metadata.producerId, producerEpoch: metadata.producerEpoch, timestamp: clock())
        } catch {
            return Array(metadata.partitions)
        }
        var failed: [TopicPartition] = []
        var offsetsTouched = false
        for (position, partition) in metadata.partitions.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) })
            .enumerated()
        {
            if position == 1 && markerDelayMs > 0 { await pauseMarkers(metadata) }
            guard let log = topics.partition(partition.topic, partition.partition) else { continue }
            do {
                let info = try log.append(ByteBuffer(bytes: marker), origin: .broker)
                try await log.waitUntilDurable(info.lastOffset + 1)
                if partition.topic == OffsetsTopic.name { offsetsTouched = true }
            } catch let error as LogEngineError where error.code == .closed || error.code == .notFound {
                continue
            } catch {
                failed.append(partition)
            }
        }
        if failed.isEmpty || offsetsTouched {
            await groups.completeTransaction(producerId: metadata.producerId, commit: commit)
        }
        return failed
    }

    /// The crash tests' fault point (`test.transaction.marker.delay.ms`): the first marker is durable, the rest wait.
    private func pauseMarkers(_ metadata: TransactionMetadata) async {
        logger.warning("test fault point: delaying transaction markers", metadata: [
            "transactionalId": "\(metadata.transactionalId)", "delayMs": "\(markerDelayMs)",
        ])
        try? await Task.sleep(for: .milliseconds(markerDelayMs))
    }

    /// Removes transactional ids idle (no transaction open) for `transactional.id.expiration.ms`: a tombstone
    /// in `__transaction_state`, then the id is forgotten (a later InitProducerId starts afresh).
    func expireTransactionalIds() async {
        let now = clock()
        let idle = transactions.values.filter {
            [.empty, .completeCommit, .completeAbort].contains($0.state) && !$0.pending
                && now.saturatingSubtract($0.lastUpdateTimestamp) >= expirationMs
        }
        for metadata in idle {
            let id = metadata.transactionalId
            transactions[id]?.pending = true
            do {
                try await stateTopic.write(id: id, value: nil, now: now)
                transactions.removeValue(forKey: id)
                verified.withLockedValue { _ = $0.removeValue(forKey: metadata.producerId) }
            } catch {
                transactions[id]?.pending = false
            }
        }
    }

    /// Aborts (with an epoch bump, fencing the producer) every ongoing transaction older than its timeout.
    func abortTimedOutTransactions() async {
        let now = clock()
        let expired = transactions.values.filter {
            $0.state == .ongoing && !$0.pending && now.saturatingSubtract($0.startTimestamp) > Int64($0.timeoutMs)
        }
        for metadata in expired {
            let epoch = Self.canBump(metadata.producerEpoch) ? metadata.producerEpoch + 1 : metadata.producerEpoch
            logger.info("aborting timed out transaction", metadata: ["transactionalId": "\(metadata.transactionalId)"])
            _ = await completeTransaction(metadata.transactionalId, commit: false, prepared: nil, fencedEpoch: epoch)
        }
    }
}
