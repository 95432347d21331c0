import KafkaProtocol

/// FindCoordinator (key 10), versions 0–6, batched keys from v4. This broker coordinates every group and every
/// transactional id; the first lookup of each kind creates `__consumer_offsets` or `__transaction_state`.
/// Other key types get INVALID_REQUEST.
struct FindCoordinatorHandler: Sendable {
    let cluster: ClusterIdentity
    let coordinator: GroupCoordinator
    var transactions: TransactionCoordinator?
    /// With an authorizer a group key needs DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED), a
    /// transactional id DESCRIBE on it (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
    var access = AccessControl()
    /// Cluster mode: a key's coordinator is the leader of its partition of the internal topic.
    var routing: ClusterRouting? = nil

    static let groupKeyType: Int8 = 0
    static let transactionKeyType: Int8 = 1

    func makeHandler() -> ApiHandler {
        ApiHandler(FindCoordinatorRequest.self, response: FindCoordinatorResponse.self, versions: 0...6) { request, context in
            self.respond(request, version: context.apiVersion, listener: context.listenerName, context: context)
        }
    }

    func respond(
        _ request: FindCoordinatorRequest, version: Int16, listener: String = "PLAINTEXT", context: RequestContext? = nil
    ) -> FindCoordinatorResponse {
        func lookup(keyType: Int8, key: String, listener: String) -> (KafkaErrorCode, (Int32, String, Int32)?) {
            if keyType == Self.groupKeyType, let context, !access.allows(context, .describe, .group, key) {
                return (.groupAuthorizationFailed, nil)
            }
            if keyType == Self.transactionKeyType, let context,
                !access.allows(context, .describe, .transactionalId, key)
            {
                return (.transactionalIdAuthorizationFailed, nil)
            }
            return self.lookup(keyType: keyType, key: key, listener: listener)
        }
        if version >= 4 {
            return FindCoordinatorResponse(coordinators: request.coordinatorKeys.map { key in
                let (error, node) = lookup(keyType: request.keyType, key: key, listener: listener)
                return .init(
                    key: key, nodeId: node?.0 ?? -1, host: node?.1 ?? "", port: node?.2 ?? -1,
                    errorCode: error.rawValue, errorMessage: error == .noError ? nil : error.description)
            })
        }
        let (error, node) = lookup(keyType: version >= 1 ? request.keyType : Self.groupKeyType, key: request.key, listener: listener)
        var response = FindCoordinatorResponse(
            errorCode: error.rawValue, nodeId: node?.0 ?? -1, host: node?.1 ?? "", port: node?.2 ?? -1)
        response.errorMessage = version >= 1 ? (error == .noError ? "NONE" : error.description) : ""
        return response
    }

    private func lookup(keyType: Int8, key: String, listener: String) -> (KafkaErrorCode, (Int32, String, Int32)?) {
        let answer = localLookup(keyType: keyType, listener: listener)
        guard let routing, answer.0 == .noError else { return answer }
        let topic = keyType == Self.groupKeyType ? OffsetsTopic.name : TransactionStateTopic.name
        guard let count = coordinator.topics?.topic(named: topic)?.partitionCount,
            let leader = routing.leader(topic, OffsetsTopic.partition(for: key, count: count)),
            let endpoint = routing.endpoint(of: leader, listener: listener)
        else { return (.coordinatorNotAvailable, nil) }
        return (.noError, (leader, endpoint.host, endpoint.port))
    }

    private func localLookup(keyType: Int8, listener: String) -> (KafkaErrorCode, (Int32, String, Int32)?) {
        switch keyType {
        case Self.groupKeyType:
            do {
                try coordinator.ensureOffsetsTopic()
            } catch {
                return (.coordinatorNotAvailable, nil)
            }
            let endpoint = cluster.endpoint(for: listener)
            return (.noError, (cluster.nodeId, endpoint.host, endpoint.port))
        case Self.transactionKeyType:
            guard let transactions else { return (.coordinatorNotAvailable, nil) }
            do {
                try transactions.ensureStateTopic()
            } catch {
                return (.coordinatorNotAvailable, nil)
            }
            let endpoint = cluster.endpoint(for: listener)
            return (.noError, (cluster.nodeId, endpoint.host, endpoint.port))
        default:
            return (.invalidRequest, nil)
        }
    }
}
