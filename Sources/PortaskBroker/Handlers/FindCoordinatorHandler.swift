import KafkaProtocol

/// FindCoordinator (key 10), versions 0–6, batched keys from v4. This broker coordinates every group and every
/// transactional id; the first lookup of each kind creates `__consumer_offsets` or `__transaction_state`.
/// Other key types get INVALID_REQUEST.
struct FindCoordinatorHandler: Sendable {
    let cluster: ClusterIdentity
    let coordinator: GroupCoordinator
    var transactions: TransactionCoordinator?

    static let groupKeyType: Int8 = 0
    static let transactionKeyType: Int8 = 1

    func makeHandler() -> ApiHandler {
        ApiHandler(FindCoordinatorRequest.self, response: FindCoordinatorResponse.self, versions: 0...6) { request, context in
            self.respond(request, version: context.apiVersion)
        }
    }

    func respond(_ request: FindCoordinatorRequest, version: Int16) -> FindCoordinatorResponse {
        if version >= 4 {
            return FindCoordinatorResponse(coordinators: request.coordinatorKeys.map { key in
                let (error, node) = lookup(keyType: request.keyType)
                return .init(
                    key: key, nodeId: node?.0 ?? -1, host: node?.1 ?? "", port: node?.2 ?? -1,
                    errorCode: error.rawValue, errorMessage: error == .noError ? nil : error.description)
            })
        }
        let (error, node) = lookup(keyType: version >= 1 ? request.keyType : Self.groupKeyType)
        var response = FindCoordinatorResponse(
            errorCode: error.rawValue, nodeId: node?.0 ?? -1, host: node?.1 ?? "", port: node?.2 ?? -1)
        response.errorMessage = version >= 1 ? (error == .noError ? "NONE" : error.description) : ""
        return response
    }

    private func lookup(keyType: Int8) -> (KafkaErrorCode, (Int32, String, Int32)?) {
        switch keyType {
        case Self.groupKeyType:
            do {
                try coordinator.ensureOffsetsTopic()
            } catch {
                return (.coordinatorNotAvailable, nil)
            }
            return (.noError, (cluster.nodeId, cluster.advertisedHost, cluster.advertisedPort))
        case Self.transactionKeyType:
            guard let transactions else { return (.coordinatorNotAvailable, nil) }
            do {
                try transactions.ensureStateTopic()
            } catch {
                return (.coordinatorNotAvailable, nil)
            }
            return (.noError, (cluster.nodeId, cluster.advertisedHost, cluster.advertisedPort))
        default:
            return (.invalidRequest, nil)
        }
    }
}
