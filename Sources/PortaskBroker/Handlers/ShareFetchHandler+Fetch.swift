import KafkaProtocol
import LogEngine
import NIOCore

extension ShareFetchHandler {
    /// A ShareFetch after its ordered phase: the session's partitions, the acknowledgement results, or an error.
    struct PreparedFetch: Sendable {
        var response: ShareFetchResponse
        var groupId = ""
        var memberId = ""
        /// The partitions to acquire from, in session order (empty for final and renew-only requests).
        var fetch: [ShareSessionCache.Partition] = []
        /// Acknowledgement results by partition.
        var acknowledged: [ShareSessionCache.Partition: KafkaErrorCode] = [:]
        /// Partitions the request itself named (a full request answers all of them).
        var named: [ShareSessionCache.Partition] = []
        var isFull = false
        var maxWaitMs: Int64 = 0
        var maxBytes = 0
        var maxRecords = 0
        /// `BatchSize`: the most records of one `AcquiredRecords` entry (Int.max when the request sets none).
        var batchSize = Int.max
        var done = false
    }

    /// Kafka's MaxRecords default for v0-style requests (v1 always carries one).
    static let defaultMaxRecords: Int32 = 500

    func prepareFetch(_ request: ShareFetchRequest, context: RequestContext) async -> PreparedFetch {
        let version = context.apiVersion
        var prepared = PreparedFetch(response: ShareFetchResponse(
            acquisitionLockTimeoutMs: Int32(clamping: partitions.lockDurationMs(request.groupId ?? ""))))
        func fail(_ code: KafkaErrorCode, _ message: String? = nil) -> PreparedFetch {
            prepared.response.errorCode = code.rawValue
            prepared.response.errorMessage = message
            prepared.done = true
            return prepared
        }
        guard let groupId = request.groupId, !groupId.isEmpty else { return fail(.invalidRequest, "GroupId can't be empty.") }
        guard let memberId = request.memberId, !memberId.isEmpty else { return fail(.invalidRequest, "MemberId can't be empty.") }
        prepared.groupId = groupId
        prepared.memberId = memberId
        let epoch = request.shareSessionEpoch
        let hasAcks = request.topics.contains { $0.partitions.contains { !$0.acknowledgementBatches.isEmpty } }
        if epoch == ShareSessionCache.initialEpoch && hasAcks {
            return fail(.invalidRequest, "Acknowledge data present on initial share fetch request.")
        }
        let named = request.topics.flatMap { topic in
            topic.partitions.map { ShareSessionCache.Partition(topicId: topic.topicId, partition: $0.partitionIndex) }
        }
        let forgotten = request.forgottenTopicsData.flatMap { topic in
            topic.partitions.map { ShareSessionCache.Partition(topicId: topic.topicId, partition: $0) }
        }
        let key = ShareSessionCache.Key(groupId: groupId, memberId: memberId)
        let added = epoch == ShareSessionCache.finalEpoch ? [] : named
        let sessionPartitions: [ShareSessionCache.Partition]
        switch sessions.fetch(key, epoch: epoch, added: added, forgotten: forgotten, connectionId: context.connectionId) {
        case .failure(let code): return fail(code)
        case .success(let list): sessionPartitions = list
        }
        let renew = version >= 2 && request.isRenewAck
        for topic in request.topics {
            for partition in topic.partitions where !partition.acknowledgementBatches.isEmpty {
                let target = resolveTarget(topic.topicId, partition.partitionIndex, context: context)
                prepared.acknowledged[target.key] = await acknowledgeDurably(
                    groupId: groupId, memberId: memberId, target: target,
                    batches: partition.acknowledgementBatches.map {
                        AckBatch(firstOffset: $0.firstOffset, lastOffset: $0.lastOffset, types: $0.acknowledgeTypes)
                    },
                    renewAllowed: renew)
            }
        }
        prepared.named = named
        prepared.isFull = epoch == ShareSessionCache.initialEpoch
        if epoch == ShareSessionCache.finalEpoch {
            closeSession(groupId: groupId, memberId: memberId)
            prepared.done = true
        } else if renew {
            prepared.done = true
        } else {
            prepared.fetch = sessionPartitions
        }
        prepared.maxWaitMs = Int64(max(request.maxWaitMs, 0))
        prepared.maxBytes = min(Int(max(request.maxBytes, 0)), maximumResponseBytes)
        prepared.maxRecords = Int(request.maxRecords > 0 ? request.maxRecords : Self.defaultMaxRecords)
        prepared.batchSize = request.batchSize > 0 ? Int(request.batchSize) : Int.max
        return prepared
    }

    /// One partition's acquisition: the log data and the acquired runs.
    struct Acquired {
        var slice: FileSlice?
        var ranges: [SharePartitionState.AcquiredRange] = []
        var error: KafkaErrorCode = .noError
    }

    func completeFetch(_ prepared: PreparedFetch, context: RequestContext) async -> ShareFetchResponse {
        var acquired: [ShareSessionCache.Partition: Acquired] = [:]
        if !prepared.done && !prepared.fetch.isEmpty {
            acquired = await acquireWaiting(prepared, context: context)
        }
        return buildResponse(prepared, acquired)
    }

    /// Acquires once, and while nothing was acquired, parks until an append, a release, the next lock expiry or
    /// the deadline, then tries again.
    private func acquireWaiting(_ prepared: PreparedFetch, context: RequestContext) async
        -> [ShareSessionCache.Partition: Acquired]
    {
        let deadline = NIODeadline.now() + .milliseconds(prepared.maxWaitMs)
        let watched = prepared.fetch.compactMap { key -> TopicPartition? in
            topics.topic(id: key.topicId).map { TopicPartition($0.name, key.partition) }
        }
        var seen = marks(watched)
        var result = acquireOnce(prepared, context: context)
        var watching = false
        while !result.values.contains(where: { !$0.ranges.isEmpty || $0.error != .noError }),
              !watched.isEmpty, NIODeadline.now() < deadline, !Task.isCancelled
        {
            if !watching {
                for partition in watched {
                    if let log = topics.partition(partition.topic, partition.partition) { waiters.watch(log, as: partition) }
                }
                watching = true
            }
            var timeout = deadline - NIODeadline.now()
            if let expiry = nextLockExpiry(prepared.groupId, watched) {
                let untilExpiry = TimeAmount.milliseconds(max(1, expiry &- coordinator.timers.nowMs()))
                timeout = min(timeout, untilExpiry)
            }
            let before = seen
            await waiters.wait(for: watched, timeout: timeout) { marks(watched) == before }
            seen = marks(watched)
            result = acquireOnce(prepared, context: context)
        }
        return result
    }

    /// The high watermarks of the partitions and the release counter: a change means acquiring may succeed now.
    private func marks(_ watched: [TopicPartition]) -> [Int64] {
        watched.map { topics.partition($0.topic, $0.partition)?.highWatermark ?? -1 }
            + [Int64(truncatingIfNeeded: releases.withLockedValue { $0 })]
    }

    private func nextLockExpiry(_ groupId: String, _ watched: [TopicPartition]) -> Int64? {
        watched.compactMap { partition in
            partitions.existing(.init(groupId: groupId, partition: partition))?.withLockedValue { $0.nextLockDeadlineMs }
        }.min()
    }

    /// One pass over the session's partitions within `MaxRecords` and `MaxBytes`.
    private func acquireOnce(_ prepared: PreparedFetch, context: RequestContext) -> [ShareSessionCache.Partition: Acquired] {
        var result: [ShareSessionCache.Partition: Acquired] = [:]
        var recordsLeft = prepared.maxRecords
        var bytesLeft = prepared.maxBytes
        var total = 0
        let now = coordinator.timers.nowMs()
        let lock = partitions.lockDurationMs(prepared.groupId)
        for key in prepared.fetch {
            let target = resolveTarget(key.topicId, key.partition, context: context)
            guard target.readable else {
                result[key] = Acquired(error: .topicAuthorizationFailed)
                continue
            }
            guard let topic = target.topic, let log = topics.partition(topic.name, key.partition) else {
                result[key] = Acquired(error: target.topic == nil ? .unknownTopicId : .unknownTopicOrPartition)
                continue
            }
            guard recordsLeft > 0, bytesLeft > 0 || total == 0 else { continue }
            let shareKey = SharePartitions.Key(groupId: prepared.groupId, partition: TopicPartition(topic.name, key.partition))
            let state = partitions.partition(shareKey, topicId: topic.id, log: log)
            let logStart = log.logStartOffset
            // Expired locks and a moved log start are written (not waited for: nothing is answered about them).
            guard let from = partitions.change(shareKey, state, { state -> (Int64?, changed: Bool) in
                let trimmed = state.trim(toLogStart: logStart)
                let expired = state.expireLocks(nowMs: now)
                return (state.nextAcquirableOffset, trimmed || expired)
            }) else { continue }
            let slice: FileSlice?
            do {
                slice = try log.read(from: from, maxBytes: max(bytesLeft, 0), minOneBatch: total == 0)
            } catch {
                continue
            }
            guard var slice else { continue }
            let bounds = (try? slice.batchBounds()) ?? []
            let ranges = state.withLockedValue {
                $0.acquire(
                    memberId: prepared.memberId, from: from, upTo: slice.nextOffset, limit: recordsLeft, nowMs: now,
                    lockDurationMs: lock, batchLastOffsets: bounds.map(\.lastOffset))
            }
            guard let last = ranges.last else { continue }
            // Send no batch past the last acquired record: clients deliver the batches they receive.
            if let bound = bounds.first(where: { $0.lastOffset >= last.lastOffset }) {
                slice = slice.prefix(through: bound)
            }
            let count = ranges.reduce(0) { $0 + Int($1.lastOffset - $1.firstOffset) + 1 }
            recordsLeft -= count
            bytesLeft -= slice.length
            total += slice.length
            result[key] = Acquired(slice: slice, ranges: Self.split(ranges, batchSize: prepared.batchSize))
        }
        return result
    }

    /// The acquired runs cut into `AcquiredRecords` entries of at most `batchSize` records each (the request's
    /// `BatchSize`, so the client acknowledges in batches of that size).
    static func split(_ ranges: [SharePartitionState.AcquiredRange], batchSize: Int) -> [SharePartitionState.AcquiredRange] {
        let size = Int64(max(1, batchSize))
        var result: [SharePartitionState.AcquiredRange] = []
        for range in ranges {
            var first = range.firstOffset
            while first <= range.lastOffset {
                let (end, overflow) = first.addingReportingOverflow(size - 1)
                let last = overflow ? range.lastOffset : min(end, range.lastOffset)
                result.append(.init(firstOffset: first, lastOffset: last, deliveryCount: range.deliveryCount))
                guard last < range.lastOffset else { break }
                first = last &+ 1
            }
        }
        return result
    }

    private func buildResponse(
        _ prepared: PreparedFetch, _ acquired: [ShareSessionCache.Partition: Acquired]
    ) -> ShareFetchResponse {
        var response = prepared.response
        guard response.errorCode == 0 else { return response }
        var order: [ShareSessionCache.Partition] = []
        var included = Set<ShareSessionCache.Partition>()
        func include(_ key: ShareSessionCache.Partition) {
            if included.insert(key).inserted { order.append(key) }
        }
        if prepared.isFull { prepared.fetch.forEach(include) }
        for key in prepared.named where prepared.acknowledged[key] != nil { include(key) }
        for key in prepared.acknowledged.keys.sorted(by: { ($0.topicId.description, $0.partition) < ($1.topicId.description, $1.partition) }) {
            include(key)
        }
        for key in prepared.fetch where acquired[key] != nil { include(key) }
        for key in order {
            var partition = ShareFetchResponse.PartitionData(
                partitionIndex: key.partition, currentLeader: .init(leaderId: nodeId, leaderEpoch: 0),
                records: RecordSet(bytes: ByteBuffer()))
            if let ack = prepared.acknowledged[key] { partition.acknowledgeErrorCode = ack.rawValue }
            if let entry = acquired[key] {
                partition.errorCode = entry.error.rawValue
                if let slice = entry.slice { partition.records = FetchedRegion(slice).recordSet }
                partition.acquiredRecords = entry.ranges.map {
                    .init(firstOffset: $0.firstOffset, lastOffset: $0.lastOffset, deliveryCount: $0.deliveryCount)
                }
            }
            if let index = response.responses.lastIndex(where: { $0.topicId == key.topicId }),
               index == response.responses.count - 1 {
                response.responses[index].partitions.append(partition)
            } else {
                response.responses.append(.init(topicId: key.topicId, partitions: [partition]))
            }
        }
        return response
    }
}
