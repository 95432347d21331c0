import KafkaProtocol
import NIOCore

/// One served API: the versions it serves and how a request is answered.
///
/// A request is answered in two phases. The *ordered* phase runs strictly in request order per connection, as
/// Kafka processes a connection's requests one after another: whatever changes state (appends, commits, topic
/// changes) happens there. It returns the *completion*, which may wait (for an fsync, for data to arrive) while
/// later requests of the connection are already being handled; responses are still written in request order.
/// Single-phase handlers do all their work in the ordered phase.
///
/// The broker's ApiVersions answer is derived from the set of `ApiHandler`s, so no API or version is advertised
/// that is not served. Immutable; thread-safe.
public struct ApiHandler: Sendable {
    /// The second phase: produces the encoded response, or `nil` when none is sent (produce with acks=0).
    public typealias Completion = @Sendable () async throws -> [IOData]?

    public let apiKey: ApiKey
    public let versions: ClosedRange<Int16>
    let respond: @Sendable (KafkaRequest, RequestContext) async throws -> Completion

    /// Wraps a single-phase handler: `handle` runs in the ordered phase and returns the response, or `nil` for
    /// no response. `versions` must lie within the codec's valid versions of the API.
    public init<Request: KafkaRequestMessage, Response: KafkaResponseMessage>(
        _ request: Request.Type, response: Response.Type, versions: ClosedRange<Int16>,
        handle: @escaping @Sendable (Request, RequestContext) async throws -> Response?
    ) {
        self.init(request, response: response, versions: versions) { (request: Request, context: RequestContext) in
            let response = try await handle(request, context)
            return { response }
        }
    }

    /// Wraps a two-phase handler: `ordered` runs in request order and returns the completion that yields the
    /// response.
    public init<Request: KafkaRequestMessage, Response: KafkaResponseMessage>(
        _ request: Request.Type, response: Response.Type, versions: ClosedRange<Int16>,
        ordered: @escaping @Sendable (Request, RequestContext) async throws -> @Sendable () async throws -> Response?
    ) {
        precondition(Request.validVersions.clamped(to: versions) == versions, "\(Request.self) cannot serve \(versions)")
        apiKey = Request.apiKey
        self.versions = versions
        respond = { request, context in
            guard let body = request.body as? Request else {
                throw KafkaProtocolError(.invalid, "request body is not a \(Request.self)")
            }
            let completion = try await ordered(body, context)
            return {
                guard let response = try await completion() else { return nil }
                return try KafkaResponseFrame.encode(
                    response, version: context.apiVersion, correlationId: context.correlationId)
            }
        }
    }
}
