import KafkaProtocol

/// DescribeCluster (key 60), versions 0–2: this broker as the cluster's only broker and its controller; v2's
/// fenced brokers (KIP-1073) are none, the only broker being unfenced while it serves.
/// v1's endpoint type must be BROKER (1): CONTROLLER (2) gets MISMATCHED_ENDPOINT_TYPE and anything else
/// UNSUPPORTED_ENDPOINT_TYPE, as a Kafka broker answers. The authorized operations asked for are the
/// principal's on the cluster when it may DESCRIBE it, else none (0), as Kafka reports them; without an
/// authorizer all of the cluster's. Thread-safe.
struct DescribeClusterHandler: Sendable {
    let cluster: ClusterIdentity
    var access = AccessControl()
    /// Cluster mode: the live brokers and the controller come from the cluster metadata.
    var routing: ClusterRouting? = nil

    static let brokerEndpoint: Int8 = 1
    static let controllerEndpoint: Int8 = 2
    /// Kafka's cluster operations (CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10,
    /// ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12) as a bit field.
    static let clusterOperations: Int32 = [5, 7, 8, 9, 10, 11, 12].reduce(0) { $0 | (1 << $1) }

    func makeHandler() -> ApiHandler {
        ApiHandler(DescribeClusterRequest.self, response: DescribeClusterResponse.self, versions: 0...2) { request, context in
            var response = self.respond(request, version: context.apiVersion, listener: context.listenerName)
            if response.errorCode == 0, request.includeClusterAuthorizedOperations {
                response.clusterAuthorizedOperations = self.access.allowsCluster(context, .describe)
                    ? self.access.clusterAuthorizedOperations(context) : 0
            }
            return response
        }
    }

    func respond(_ request: DescribeClusterRequest, version: Int16, listener: String = "PLAINTEXT") -> DescribeClusterResponse {
        let endpoint = cluster.endpoint(for: listener)
        if request.endpointType != Self.brokerEndpoint {
            let known = request.endpointType == Self.controllerEndpoint
            let code: KafkaErrorCode = version == 0 ? .invalidRequest : known ? .mismatchedEndpointType : .unsupportedEndpointType
            let message = known
                ? "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"
                : "Unsupported endpoint type \(request.endpointType)"
            return DescribeClusterResponse(errorCode: code.rawValue, errorMessage: message)
        }
        var response = DescribeClusterResponse(
            throttleTimeMs: 0, errorCode: 0, errorMessage: nil, endpointType: Self.brokerEndpoint,
            clusterId: cluster.clusterId, controllerId: cluster.nodeId,
            brokers: [.init(brokerId: cluster.nodeId, host: endpoint.host, port: endpoint.port, rack: nil)],
            clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? Self.clusterOperations : Int32.min)
        if let routing {
            let image = routing.image
            response.controllerId = image.controller?.nodeId ?? -1
            response.brokers = image.liveBrokerIds.compactMap { node in
                guard let endpoint = routing.endpoint(of: node, listener: listener) else { return nil }
                return .init(brokerId: node, host: endpoint.host, port: endpoint.port, rack: image.brokers[node]?.registration.rack)
            }
        }
        return response
    }
}
