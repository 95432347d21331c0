import KafkaProtocol
import NIOCore

/// One served API: the versions it serves and the function that answers a request.
///
/// The broker's ApiVersions answer is derived from the set of `ApiHandler`s, so no API or version is advertised
/// that is not served. Immutable; thread-safe.
public struct ApiHandler: Sendable {
    public let apiKey: ApiKey
    public let versions: ClosedRange<Int16>
    let respond: @Sendable (KafkaRequest, RequestContext) async throws -> [IOData]?

    /// Wraps a typed handler. `handle` returns `nil` when no response is sent (produce with acks=0).
    /// `versions` must lie within the codec's valid versions of the API.
    public init<Request: KafkaRequestMessage, Response: KafkaResponseMessage>(
        _ request: Request.Type, response: Response.Type, versions: ClosedRange<Int16>,
        handle: @escaping @Sendable (Request, RequestContext) async throws -> Response?
    ) {
        precondition(Request.validVersions.clamped(to: versions) == versions, "\(Request.self) cannot serve \(versions)")
        apiKey = Request.apiKey
        self.versions = versions
        respond = { request, context in
            guard let body = request.body as? Request else {
                throw KafkaProtocolError(.invalid, "request body is not a \(Request.self)")
            }
            guard let response = try await handle(body, context) else { return nil }
            return try KafkaResponseFrame.encode(
                response, version: context.apiVersion, correlationId: context.correlationId)
        }
    }
}
