import KafkaProtocol

/// FindCoordinator (key 10), versions 0–6, batched keys from v4. This broker coordinates every group; the
/// first group lookup creates `__consumer_offsets`. Transaction coordinators (key type 1) are not served
/// until transactions land: those keys get COORDINATOR_NOT_AVAILABLE, which clients retry. Other key types
/// get INVALID_REQUEST.
struct FindCoordinatorHandler: Sendable {
    let cluster: ClusterIdentity
    let coordinator: GroupCoordinator
    /// With an authorizer a group key needs DESCRIBE on the group, else GROUP_AUTHORIZATION_FAILED.
    var access = AccessControl()

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
            return self.lookup(keyType: keyType, listener: listener)
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

    private func lookup(keyType: Int8, listener: String) -> (KafkaErrorCode, (Int32, String, Int32)?) {
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
            return (.coordinatorNotAvailable, nil)
        default:
            return (.invalidRequest, nil)
        }
    }
}
