import KafkaProtocol
import NIOCore

extension FetchHandler {
    /// A fetch under the client's `consumer_byte_rate`, as Kafka serves it: the response is at most the bytes the
    /// quota allows in its window; when the response would take the rate above the quota, its bytes are taken
    /// back and an empty response carries the throttle time, for which the connection is muted.
    func respondWithinQuota(
        _ incoming: FetchRequest, context: RequestContext, quotas: ClientQuotaEnforcer
    ) async throws -> FetchResponse {
        let clientId = context.clientId ?? ""
        let user = context.principal.name
        var request = incoming
        if let window = quotas.maximumInWindow(.fetch, user: user, clientId: clientId) {
            let cap = Int32(clamping: window)
            request.maxBytes = min(request.maxBytes, cap)
            request.minBytes = min(request.minBytes, request.maxBytes)
        }
        var response = try await respond(request, version: context.apiVersion, context: context)
        let bytes = response.responses.reduce(0) { total, topic in
            topic.partitions.reduce(total) { $0 + ($1.records?.byteCount ?? 0) }
        }
        let now = ProduceHandler.nowMs()
        let throttleMs = quotas.record(.fetch, user: user, clientId: clientId, bytes: bytes, nowMs: now)
        guard throttleMs > 0 else { return response }
        quotas.unrecord(.fetch, user: user, clientId: clientId, bytes: bytes, nowMs: now)
        // The dropped records' file regions are released with their owners.
        context.throttle?.mute(forMilliseconds: throttleMs)
        response = FetchResponse(throttleTimeMs: context.apiVersion >= 1 ? throttleMs : 0, errorCode: 0, sessionId: response.sessionId)
        return response
    }
}
