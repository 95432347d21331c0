import KafkaProtocol
import LogEngine
import NIOCore

/// Produce (key 0): appends each partition's record batches to its log and answers per `acks`:
/// 0 no response, 1 after the append, -1 (all) once the data is fsynced (group commit).
///
/// Versions 3+ carry record batches v2, validated and stored byte for byte by LogEngine; versions 0–2 carry
/// message format v0/v1, up-converted to a batch v2 first (`ProduceHandler+MessageFormat`). Errors are
/// per partition (UNKNOWN_TOPIC_OR_PARTITION, CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_RECORD, ...).
/// Versions 0–13: v12 is v11 (KIP-890's implicit transaction membership applies only under transaction.version 2, which is not
/// advertised, so transactional clients add partitions with AddPartitionsToTxn); v13 names
/// topics by id (KIP-516), an unknown id getting UNKNOWN_TOPIC_ID. Under a `producer_byte_rate` quota the
/// response carries the throttle time and the connection is muted for it.
/// With an authorizer, a transactional request needs WRITE on its transactional id (else every partition
/// answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and each topic WRITE (else TOPIC_AUTHORIZATION_FAILED).
struct ProduceHandler: Sendable {
    let topics: TopicManager
    var transactions: TransactionCoordinator? = nil
    /// The client quotas (`producer_byte_rate`), when the broker enforces them.
    var quotas: ClientQuotaEnforcer? = nil
    var access = AccessControl()
    /// Cluster mode: partitions led elsewhere answer NOT_LEADER_OR_FOLLOWER with their leader (KIP-951).
    var routing: ClusterRouting? = nil

    func makeHandler() -> ApiHandler {
        // Appends happen in the connection's request order; the fsync wait of acks=all overlaps later requests.
        // Requests that need format conversion or recompression (work in proportion to decompressed bytes) run
        // on the thread pool instead of the event loop.
        ApiHandler(
            ProduceRequest.self, response: ProduceResponse.self, versions: 0...13,
            blocking: .when { request, version in
                self.needsConversion(self.resolvingTopicIds(request, version: version), version: version)
            },
            prepare: { incoming, context in
                let request = self.resolvingTopicIds(incoming, version: context.apiVersion)
                var appended = self.append(request, context: context)
                let throttleMs = self.throttle(request, context: context)
                if context.apiVersion >= 1 { appended.response.throttleTimeMs = throttleMs }
                return appended
            },
            complete: { appended in await self.complete(appended, acks: appended.acks) })
    }

    /// The answer to a produce request with its appends done, and the fsyncs it still waits for.
    struct Appended: Sendable {
        var response: ProduceResponse
        var acks: Int16 = 1
        var durableWaits: [(topic: Int, partition: Int, log: PartitionLog, offset: Int64)]
    }

    /// Records the request's record bytes against the client's `producer_byte_rate` and mutes the connection
    /// for the throttle time, which is returned (0 without a quota).
    func throttle(_ request: ProduceRequest, context: RequestContext) -> Int32 {
        guard let quotas, quotas.isActive(.produce) else { return 0 }
        let bytes = request.topicData.reduce(0) { total, topic in
            topic.partitionData.reduce(total) { $0 + ($1.records?.byteCount ?? 0) }
        }
        let throttleMs = quotas.record(
            .produce, user: context.principal.name, clientId: context.clientId ?? "", bytes: bytes, nowMs: Self.nowMs())
        context.throttle?.mute(forMilliseconds: throttleMs)
        return throttleMs
    }

    /// A monotonic clock in milliseconds, for quota rates.
    static func nowMs() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) }

    /// The first version that names topics by id.
    static let firstTopicIdVersion: Int16 = 13

    /// From v13 topics come by id: each gets its name here (empty when the id is unknown), so the rest of the
    /// handler works by name.
    func resolvingTopicIds(_ request: ProduceRequest, version: Int16) -> ProduceRequest {
        guard version >= Self.firstTopicIdVersion else { return request }
        var resolved = request
        for index in resolved.topicData.indices {
            resolved.topicData[index].name = topics.topic(id: resolved.topicData[index].topicId)?.name ?? ""
        }
        return resolved
    }

    /// Whether appending `request` converts message formats (v0–2) or recompresses to a topic's codec.
    func needsConversion(_ request: ProduceRequest, version: Int16) -> Bool {
        version < 3 || request.topicData.contains { topics.topicConfig(named: $0.name)?.compressionType.codec != nil }
    }

    /// Both phases at once: appends, then waits as `acks` says.
    func respond(_ request: ProduceRequest, context: RequestContext) async -> ProduceResponse? {
        await complete(append(request, context: context), acks: request.acks)
    }

    /// Waits for the fsyncs acks=all needs; `nil` (no response) for acks=0.
    func complete(_ appended: Appended, acks: Int16) async -> ProduceResponse? {
        var response = appended.response
        for wait in appended.durableWaits {
            do {
                try await wait.log.waitUntilDurable(wait.offset)
            } catch {
                response.responses[wait.topic].partitionResponses[wait.partition].errorCode =
                    KafkaErrorCode.kafkaStorageError.rawValue
            }
        }
        return acks == 0 ? nil : response
    }

    /// The decompression budget of one produce request, shared by every partition and by up-conversion,
    /// recompression and validation alike: `DecompressionBudget.forAppend` of the largest `max.message.bytes`
    /// among the request's topics (so many small bombs in one request add up to one bound).
    func decompressionBudget(for request: ProduceRequest) -> DecompressionBudget {
        let largest = request.topicData.reduce(topics.config.topicConfig().maxMessageBytes) { largest, topic in
            max(largest, topics.topicConfig(named: topic.name)?.maxMessageBytes ?? 0)
        }
        return .forAppend(maxMessageBytes: largest)
    }

    /// Validates and appends every partition's batches, in request order.
    func append(_ request: ProduceRequest, context: RequestContext) -> Appended {
        guard [0, 1, -1].contains(request.acks) else {
            return Appended(response: errorResponse(request, code: .invalidRequiredAcks), acks: request.acks, durableWaits: [])
        }
        if let transactionalId = request.transactionalId,
            !access.allows(context, .write, .transactionalId, transactionalId)
        {
            return Appended(response: errorResponse(request, code: .transactionalIdAuthorizationFailed), durableWaits: [])
        }
        var response = ProduceResponse()
        var durableWaits: [(topic: Int, partition: Int, log: PartitionLog, offset: Int64)] = []
        var budget = decompressionBudget(for: request)
        var redirectedTo = Set<Int32>()
        for (topicIndex, topicData) in request.topicData.enumerated() {
            var topicResponse = ProduceResponse.TopicProduceResponse(name: topicData.name, topicId: topicData.topicId)
            let unknownId = context.apiVersion >= Self.firstTopicIdVersion && topicData.name.isEmpty
            // The topic's configuration and storage codec, looked up once for all its partitions.
            let topic = topics.topic(named: topicData.name)
            let config = topics.topicConfig(named: topicData.name) ?? topics.config.topicConfig()
            let storedCodec = config.compressionType.codec
            let writable = access.allows(context, .write, .topic, topicData.name)
            for partitionData in topicData.partitionData {
                var partitionResponse = ProduceResponse.PartitionProduceResponse(
                    index: partitionData.index, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1)
                guard writable else {
                    partitionResponse.errorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                    topicResponse.partitionResponses.append(partitionResponse)
                    continue
                }
                // Kafka refuses client appends to its internal topics: only the coordinators write them.
                if topic?.isInternal == true {
                    partitionResponse.errorCode = KafkaErrorCode.invalidTopicException.rawValue
                    if context.apiVersion >= 8 {
                        partitionResponse.errorMessage = "Cannot append to internal topic \(topicData.name)"
                    }
                    topicResponse.partitionResponses.append(partitionResponse)
                    continue
                }
                if !unknownId, let routing, let refusal = routing.refusal(topicData.name, partitionData.index) {
                    partitionResponse.errorCode = refusal.code.rawValue
                    if context.apiVersion >= 10 {
                        partitionResponse.currentLeader = .init(leaderId: refusal.leaderId, leaderEpoch: refusal.leaderEpoch)
                        if refusal.leaderId >= 0 { redirectedTo.insert(refusal.leaderId) }
                    }
                    topicResponse.partitionResponses.append(partitionResponse)
                    continue
                }
                guard !unknownId, let log = topics.partition(topicData.name, partitionData.index) else {
                    partitionResponse.errorCode = (unknownId ? KafkaErrorCode.unknownTopicId : .unknownTopicOrPartition).rawValue
                    topicResponse.partitionResponses.append(partitionResponse)
                    continue
                }
                guard let records = partitionData.records?.bytes, records.readableBytes > 0 else {
                    partitionResponse.errorCode = KafkaErrorCode.invalidRecord.rawValue
                    partitionResponse.errorMessage = "the produce request carries no record batches"
                    topicResponse.partitionResponses.append(partitionResponse)
                    continue
                }
                do {
                    var batches = try Self.recordBatches(records, version: context.apiVersion, budget: &budget)
                    if let (code, message) = policyViolation(
                        batches, config: config, acks: request.acks, version: context.apiVersion)
                    {
                        throw PolicyViolation(code: code, message: message)
                    }
                    if let codec = storedCodec,
                        let recompressed = try BatchRecompressor.recompress(
                            batches, to: codec, maxBatchBytes: log.config.maxMessageBytes, budget: &budget)
                    {
                        batches = recompressed
                    }
                    if let refusal = transactionRefusal(batches, topic: topicData.name, partition: partitionData.index) {
                        throw PolicyViolation(code: refusal, message: "transactional batch outside an ongoing transaction")
                    }
                    let info = try log.append(batches, budget: &budget)
                    partitionResponse.baseOffset = info.firstOffset
                    partitionResponse.logStartOffset = info.logStartOffset
                    if log.config.messageTimestampType == .logAppendTime {
                        partitionResponse.logAppendTimeMs = info.logAppendTime
                    }
                    // acks=all waits for the fsync, and so does an append that reached `flush.messages` (Kafka
                    // answers it after its flush; here the fsync runs on the log's sync queue).
                    if request.acks == -1 || info.flushScheduled {
                        durableWaits.append((topicIndex, topicResponse.partitionResponses.count, log, info.lastOffset + 1))
                    }
                } catch let violation as PolicyViolation {
                    partitionResponse.errorCode = violation.code.rawValue
                    if context.apiVersion >= 8 { partitionResponse.errorMessage = violation.message }
                } catch {
                    partitionResponse.errorCode = KafkaErrorCode(error).rawValue
                    if context.apiVersion >= 8 { partitionResponse.errorMessage = "\(error)" }
                }
                topicResponse.partitionResponses.append(partitionResponse)
            }
            response.responses.append(topicResponse)
        }
        if let routing, !redirectedTo.isEmpty {
            response.nodeEndpoints = routing.nodeEndpoints(for: redirectedTo, listener: context.listenerName).map {
                .init(nodeId: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack)
            }
        }
        return Appended(response: response, acks: request.acks, durableWaits: durableWaits)
    }

    /// Kafka's verification of transactional batches (KIP-890 part 1): the producer's epoch must have added
    /// this partition to its ongoing transaction. nil when no batch is transactional or all are allowed.
    func transactionRefusal(_ batches: ByteBuffer, topic: String, partition: Int32) -> KafkaErrorCode? {
        batches.withUnsafeReadableBytes { bytes in
            for batch in RecordBatchSequence(bytes) where batch.header.isTransactional {
                guard let transactions else { return .invalidTxnState }
                if let error = transactions.verify(
                    producerId: batch.header.producerId, epoch: batch.header.producerEpoch,
                    partition: TopicPartition(topic, partition))
                {
                    return error
                }
            }
            return nil
        }
    }

    private func errorResponse(_ request: ProduceRequest, code: KafkaErrorCode) -> ProduceResponse {
        ProduceResponse(responses: request.topicData.map { topic in
            .init(name: topic.name, topicId: topic.topicId, partitionResponses: topic.partitionData.map {
                .init(index: $0.index, errorCode: code.rawValue, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1)
            })
        })
    }
}
