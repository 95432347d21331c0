import KafkaProtocol

/// InitProducerId (key 22), versions 0–5, for idempotent and transactional producers.
///
/// - No producer id given (-1/-1): a new id from `ProducerIdManager`, epoch 0, as Kafka answers.
/// - Only one of producer id and epoch given: INVALID_REQUEST, as Kafka.
/// - An id this broker allocated with its current epoch (v3+): the same id with the epoch bumped, which
///   fences the old epoch on every partition (its batches get INVALID_PRODUCER_EPOCH, the new epoch starts at
///   sequence 0). When the epoch is exhausted (`Int16.max - 1`, as Kafka's coordinator rotates) or the id was
///   never allocated here, a new id with epoch 0. (Kafka ignores the given id for non-transactional producers
///   and always allocates; keeping the id is equally valid for every client and keeps DescribeProducers
///   readable.)
/// - An empty transactional id: INVALID_REQUEST, as Kafka (checked after the id/epoch pair).
/// - Any other transactional id: the `TransactionCoordinator` (epoch bump fencing older producers, an open
///   transaction aborted first, the timeout bounded by `transaction.max.timeout.ms`).
///
/// Thread-safety: the id manager serialises allocation; the coordinator is an actor.
struct InitProducerIdHandler: Sendable {
    let producerIds: ProducerIdManager
    var transactions: TransactionCoordinator?
    /// With an authorizer an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic
    /// (else CLUSTER_AUTHORIZATION_FAILED); a transactional one WRITE on its transactional id.
    var access = AccessControl()

    func makeHandler() -> ApiHandler {
        ApiHandler(InitProducerIdRequest.self, response: InitProducerIdResponse.self, versions: 0...5) { request, context in
            if let transactionalId = request.transactionalId, !transactionalId.isEmpty,
                !self.access.allows(context, .write, .transactionalId, transactionalId)
            {
                return self.failure(.transactionalIdAuthorizationFailed)
            }
            if request.transactionalId == nil, self.access.isEnabled, !self.access.allowsCluster(context, .idempotentWrite),
                !self.access.allowsAny(context, .write, .topic)
            {
                return self.failure(.clusterAuthorizationFailed)
            }
            return await self.respond(request)
        }
    }

    func respond(_ request: InitProducerIdRequest) async -> InitProducerIdResponse {
        if (request.producerId == -1) != (request.producerEpoch == -1) { return failure(.invalidRequest) }
        if let transactionalId = request.transactionalId {
            guard !transactionalId.isEmpty else { return failure(.invalidRequest) }
            guard let transactions else { return failure(.coordinatorNotAvailable) }
            let (error, producerId, epoch) = await transactions.initProducerId(
                transactionalId, timeoutMs: request.transactionTimeoutMs, producerId: request.producerId,
                producerEpoch: request.producerEpoch)
            return InitProducerIdResponse(errorCode: error.rawValue, producerId: producerId, producerEpoch: epoch)
        }
        switch (request.producerId, request.producerEpoch) {
        case (-1, -1):
            return allocate()
        case (-1, _), (_, -1):
            return failure(.invalidRequest)
        case (let producerId, let epoch):
            guard producerIds.wasAllocated(producerId), epoch >= 0, epoch < Int16.max - 1 else { return allocate() }
            return InitProducerIdResponse(errorCode: 0, producerId: producerId, producerEpoch: epoch + 1)
        }
    }

    private func allocate() -> InitProducerIdResponse {
        do {
            return InitProducerIdResponse(errorCode: 0, producerId: try producerIds.allocate(), producerEpoch: 0)
        } catch {
            return failure(.kafkaStorageError)
        }
    }

    private func failure(_ code: KafkaErrorCode) -> InitProducerIdResponse {
        InitProducerIdResponse(errorCode: code.rawValue, producerId: -1, producerEpoch: -1)
    }
}
