import KafkaProtocol
import LogEngine
import NIOCore

/// Fetch (key 1): whole stored batches sliced from segment files, sent as file regions (sendfile) or, when
/// `copyRecords` is set (TLS), copied through the segment mapping.
///
/// Versions 0–18 (v18's follower high watermark is read and ignored: there are no followers). Versions 4+ return stored record batches v2 untouched; versions 0–3 return message format v0 (Fetch v0–v1)
/// or v1 (v2–v3) message sets down-converted from them (`FetchHandler+MessageFormat`). Kafka's limits:
/// `partitionMaxBytes` per partition and `maxBytes` per response, with the first batch of the first non-empty
/// partition returned whole even when larger. A fetch that lacks `minBytes` parks until an append to one of its
/// partitions or `maxWaitMs` (a marker is an append, so read_committed fetches wake when the last stable offset
/// moves). Under read_committed (isolation level 1) reads stop at the last stable offset and carry the aborted
/// transactions overlapping the returned range (from the `.txnindex`). Fetch sessions (v7+, KIP-227) live in a `FetchSessionCache`: incremental requests
/// name only changed partitions, and their responses carry only partitions with news (`FetchHandler+Sessions`).
struct FetchHandler: Sendable {
    let topics: TopicManager
    let waiters: FetchWaiters
    var sessions = FetchSessionCache()
    var copyRecords = false
    /// Kafka's `fetch.max.bytes`: the most record bytes one response carries, whatever the request asks, so a
    /// response always fits its 32-bit size (the first batch is still returned whole, as Kafka does).
    var maximumResponseBytes = 57_671_680
    /// The client quotas (`consumer_byte_rate`), when the broker enforces them.
    var quotas: ClientQuotaEnforcer? = nil
    /// With an authorizer, each topic needs READ, else its partitions answer TOPIC_AUTHORIZATION_FAILED.
    var access = AccessControl()
    /// Cluster mode: partitions led elsewhere answer NOT_LEADER_OR_FOLLOWER with their leader (KIP-951), stale
    /// leader epochs FENCED_LEADER_EPOCH.
    var routing: ClusterRouting? = nil

    static let readCommitted: Int8 = 1

    func makeHandler() -> ApiHandler {
        ApiHandler(FetchRequest.self, response: FetchResponse.self, versions: 0...18) {
            (request: FetchRequest, context: RequestContext) in
            // Nothing to order: the read and any long poll run in the completion, so a parked fetch does not
            // hold up the connection's later requests, and it sees every append ordered before it.
            guard let quotas = self.quotas, quotas.isActive(.fetch) else {
                return { try await self.respond(request, version: context.apiVersion, context: context) }
            }
            return { try await self.respondWithinQuota(request, context: context, quotas: quotas) }
        }
    }

    /// A partition's part of the answer before its bytes are turned into a record set.
    struct PartitionResult {
        var topic: Int
        var response: FetchResponse.PartitionData
        var slice: FileSlice?
        /// Where the fetch started and its byte limit, for down-conversion (versions 0–3).
        var fetchOffset: Int64 = 0
        var limit: Int = 0
        var log: PartitionLog?
    }

    func respond(_ incoming: FetchRequest, version: Int16, context: RequestContext? = nil) async throws -> FetchResponse {
        var request = incoming
        let session = sessionContext(incoming, version: version)
        switch session {
        case .failure(let code):
            return FetchResponse(errorCode: code.rawValue, sessionId: 0)
        case .full(_, let partitions), .incremental(_, let partitions):
            request.topics = Self.fetchTopics(partitions)
        case .sessionless:
            break
        }
        let deadline = NIODeadline.now() + .milliseconds(Int64(max(request.maxWaitMs, 0)))
        let watched = watchedPartitions(request, version: version)
        // The high watermarks are taken before each read: an append that lands after them, during the read or
        // before the waiter is registered, makes `stillWaiting` false, so it is never slept through.
        var ends = highWatermarks(of: watched)
        var (response, results, bytes) = read(request, version: version, context: context)
        if bytes < Int(request.minBytes) {
            for partition in watched {
                if let log = topics.partition(partition.topic, partition.partition) { waiters.watch(log, as: partition) }
            }
        }
        while bytes < Int(request.minBytes), !watched.isEmpty, NIODeadline.now() < deadline, !Task.isCancelled,
            !results.contains(where: { $0.response.errorCode != 0 })
        {
            let seen = ends
            await waiters.wait(for: watched, timeout: deadline - NIODeadline.now()) {
                highWatermarks(of: watched) == seen
            }
            ends = highWatermarks(of: watched)
            (response, results, bytes) = read(request, version: version, context: context)
        }
        if case .incremental(_, let partitions) = session {
            let sent = Dictionary(partitions.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            results = results.filter { result in
                let topic = response.responses[result.topic]
                let key = Self.key(
                    topic: topic.topic, topicId: topic.topicId, partition: result.response.partitionIndex, version: version)
                return needsAnswer(result, lastSent: sent[key])
            }
        }
        if version < Self.firstRecordBatchVersion {
            // Down-conversion decompresses and re-encodes: on the thread pool, not the event loop.
            // One decompression budget for the whole response, as for a produce request.
            let limit = DecompressionBudget.forAppend(maxMessageBytes: topics.config.topicConfig().maxMessageBytes)
            response = try await BlockingWork.run { [response, results] in
                var converted = response
                var budget = limit
                for result in results {
                    var partition = result.response
                    self.downConvert(result, into: &partition, version: version, budget: &budget)
                    converted.responses[result.topic].partitions.append(partition)
                }
                return converted
            }
        } else {
            for result in results {
                var partition = result.response
                partition.records = try records(result.slice)
                response.responses[result.topic].partitions.append(partition)
            }
        }
        switch session {
        case .full(let sessionId, _), .incremental(let sessionId, _):
            finishSessionResponse(&response, sessionId: sessionId, version: version)
        case .sessionless, .failure:
            break
        }
        return response
    }

    private func records(_ slice: FileSlice?) throws -> RecordSet {
        guard let slice else { return RecordSet(bytes: ByteBuffer()) }
        if copyRecords { return RecordSet(bytes: try slice.readBuffer()) }
        return FetchedRegion(slice).recordSet
    }

    private func highWatermarks(of partitions: [TopicPartition]) -> [Int64] {
        partitions.map { topics.partition($0.topic, $0.partition)?.highWatermark ?? -1 }
    }

    private func watchedPartitions(_ request: FetchRequest, version: Int16) -> [TopicPartition] {
        request.topics.flatMap { fetchTopic -> [TopicPartition] in
            guard let topic = resolve(fetchTopic, version: version) else { return [] }
            return fetchTopic.partitions.map { TopicPartition(topic.name, $0.partition) }
        }
    }

    private func resolve(_ fetchTopic: FetchRequest.FetchTopic, version: Int16) -> Topic? {
        version >= 13 ? topics.topic(id: fetchTopic.topicId) : topics.topic(named: fetchTopic.topic)
    }

    /// One pass over the requested partitions: slices within the limits, and the bytes they add up to.
    private func read(
        _ request: FetchRequest, version: Int16, context: RequestContext?
    ) -> (FetchResponse, [PartitionResult], Int) {
        var response = FetchResponse(throttleTimeMs: 0, errorCode: 0, sessionId: 0)
        var results: [PartitionResult] = []
        var remaining = min(version >= 3 ? Int(request.maxBytes) : Int(Int32.max), maximumResponseBytes)
        var total = 0
        let committed = request.isolationLevel == Self.readCommitted
        var redirectedTo = Set<Int32>()
        for fetchTopic in request.topics {
            let topic = resolve(fetchTopic, version: version)
            response.responses.append(.init(topic: fetchTopic.topic, topicId: fetchTopic.topicId))
            let topicIndex = response.responses.count - 1
            let readable = context.map { access.allows($0, .read, .topic, topic?.name ?? fetchTopic.topic) } ?? true
            for fetchPartition in fetchTopic.partitions {
                var partition = FetchResponse.PartitionData(
                    partitionIndex: fetchPartition.partition, highWatermark: -1, lastStableOffset: -1,
                    logStartOffset: -1, abortedTransactions: committed ? [] : nil)
                guard readable else {
                    partition.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                    results.append(PartitionResult(topic: topicIndex, response: partition, slice: nil))
                    continue
                }
                if let topic, let routing, let refusal = routing.refusal(
                    topic.name, fetchPartition.partition, currentLeaderEpoch: version >= 9 ? fetchPartition.currentLeaderEpoch : -1)
                {
                    partition.errorCode = refusal.code.rawValue
                    if version >= 12 {
                        partition.currentLeader = .init(leaderId: refusal.leaderId, leaderEpoch: refusal.leaderEpoch)
                        if refusal.leaderId >= 0 { redirectedTo.insert(refusal.leaderId) }
                    }
                    results.append(PartitionResult(topic: topicIndex, response: partition, slice: nil))
                    continue
                }
                guard let topic, let log = topics.partition(topic.name, fetchPartition.partition) else {
                    let missing: KafkaErrorCode = (version >= 13 && topic == nil) ? .unknownTopicId : .unknownTopicOrPartition
                    partition.errorCode = missing.rawValue
                    results.append(PartitionResult(topic: topicIndex, response: partition, slice: nil))
                    continue
                }
                let highWatermark = log.highWatermark
                partition.highWatermark = highWatermark
                partition.lastStableOffset = min(log.lastStableOffset, highWatermark)
                partition.logStartOffset = log.logStartOffset
                var slice: FileSlice?
                do {
                    let limit = min(Int(max(fetchPartition.partitionMaxBytes, 0)), max(remaining, 0))
                    if limit > 0 || total == 0 {
                        // read_committed stops at the last stable offset: the slice is shortened, never rewritten.
                        slice = try log.read(
                            from: fetchPartition.fetchOffset, maxBytes: limit,
                            upperBound: committed ? partition.lastStableOffset : highWatermark,
                            minOneBatch: total == 0)
                    }
                    if committed, let slice {
                        partition.abortedTransactions = log.abortedTransactions(
                            from: fetchPartition.fetchOffset, upTo: slice.nextOffset
                        ).map { .init(producerId: $0.producerId, firstOffset: $0.firstOffset) }
                    }
                } catch {
                    partition.errorCode = KafkaErrorCode(error).rawValue
                }
                if let slice {
                    total += slice.length
                    remaining -= slice.length
                }
                results.append(PartitionResult(
                    topic: topicIndex, response: partition, slice: slice, fetchOffset: fetchPartition.fetchOffset,
                    limit: Int(max(fetchPartition.partitionMaxBytes, 0)), log: log))
            }
        }
        if let routing, version >= 16, !redirectedTo.isEmpty {
            response.nodeEndpoints = routing.nodeEndpoints(for: redirectedTo, listener: context?.listenerName ?? "").map {
                .init(nodeId: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack)
            }
        }
        return (response, results, total)
    }
}
