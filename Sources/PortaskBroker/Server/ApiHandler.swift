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
/// Handlers declare whether their ordered phase may block its thread (`Blocking`): those that create or delete
/// files, fsync or sync directories, or decompress in proportion to client input run that phase on NIO's thread
/// pool, so no event loop ever waits on a disk; all others run on the connection's event loop.
///
/// The broker's ApiVersions answer is derived from the set of `ApiHandler`s, so no API or version is advertised
/// that is not served. Immutable; thread-safe.
public struct ApiHandler: Sendable {
    /// The second phase: produces the encoded response, or `nil` when none is sent (produce with acks=0).
    public typealias Completion = @Sendable () async throws -> EncodedResponse?

    public let apiKey: ApiKey
    public let versions: ClosedRange<Int16>
    /// What the handler declared about blocking its thread in the ordered phase (see `Blocking`).
    public let blocking: BlockingKind
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

    /// Wraps a single-phase handler that may block its thread (file creation or deletion, fsync, directory
    /// sync, work in proportion to decompressed bytes): `handle` runs on NIO's thread pool whenever `blocking`
    /// says the request may block, on the connection's event loop otherwise.
    public init<Request: KafkaRequestMessage, Response: KafkaResponseMessage>(
        _ request: Request.Type, response: Response.Type, versions: ClosedRange<Int16>, blocking: Blocking<Request>,
        handle: @escaping @Sendable (Request, RequestContext) throws -> Response?
    ) {
        self.init(request, response: response, versions: versions, blocking: blocking, prepare: handle) { $0 }
    }

    /// Wraps a two-phase handler whose ordered phase, `prepare`, may block its thread: it runs on NIO's thread
    /// pool whenever `blocking` says the request may block, on the connection's event loop otherwise; its
    /// result is handed to `complete`, the completion (which must not block: it waits asynchronously).
    public init<Request: KafkaRequestMessage, Response: KafkaResponseMessage, Prepared: Sendable>(
        _ request: Request.Type, response: Response.Type, versions: ClosedRange<Int16>, blocking: Blocking<Request>,
        prepare: @escaping @Sendable (Request, RequestContext) throws -> Prepared,
        complete: @escaping @Sendable (Prepared) async throws -> Response?
    ) {
        self.init(request, response: response, versions: versions, kind: blocking.kind) {
            (request: Request, context: RequestContext) in
            let prepared = blocking.mayBlock(request, context.apiVersion)
                ? try await BlockingWork.run { try prepare(request, context) }
                : try prepare(request, context)
            return { try await complete(prepared) }
        }
    }

    /// Wraps a two-phase handler: `ordered` runs in request order and returns the completion that yields the
    /// response.
    public init<Request: KafkaRequestMessage, Response: KafkaResponseMessage>(
        _ request: Request.Type, response: Response.Type, versions: ClosedRange<Int16>,
        ordered: @escaping @Sendable (Request, RequestContext) async throws -> @Sendable () async throws -> Response?
    ) {
        self.init(request, response: response, versions: versions, kind: .never, ordered: ordered)
    }

    private init<Request: KafkaRequestMessage, Response: KafkaResponseMessage>(
        _ request: Request.Type, response: Response.Type, versions: ClosedRange<Int16>, kind: BlockingKind,
        ordered: @escaping @Sendable (Request, RequestContext) async throws -> @Sendable () async throws -> Response?
    ) {
        precondition(Request.validVersions.clamped(to: versions) == versions, "\(Request.self) cannot serve \(versions)")
        apiKey = Request.apiKey
        self.versions = versions
        blocking = kind
        respond = { request, context in
            guard let body = request.body as? Request else {
                throw KafkaProtocolError(.invalid, "request body is not a \(Request.self)")
            }
            let quotas = ApiHandler.requestQuotas(context)
            let started = quotas == nil ? 0 : NIODeadline.now().uptimeNanoseconds
            let completion = try await ordered(body, context)
            let throttleMs = quotas.map { ApiHandler.recordRequestTime($0, context, since: started) } ?? 0
            return {
                guard let response = try await completion() else { return nil }
                return try KafkaResponseFrame.encodeRetaining(
                    response.throttled(atLeast: throttleMs), version: context.apiVersion,
                    correlationId: context.correlationId)
            }
        }
    }
}

extension ApiHandler {
    /// The SASL exchange is not measured: Kafka answers it before the request handlers see the connection.
    static let unmeasured: Set<ApiKey> = [.saslHandshake, .saslAuthenticate]

    /// The quotas a request's handling time is measured against: only while a `request_percentage` quota is
    /// configured (one atomic load otherwise).
    static func requestQuotas(_ context: RequestContext) -> ClientQuotaEnforcer? {
        guard let quotas = context.quotas, quotas.isActive(.request), !unmeasured.contains(context.apiKey) else { return nil }
        return quotas
    }

    /// Records the ordered phase's time since `started` (uptime nanoseconds) against the client's
    /// `request_percentage`, mutes the connection for the throttle time and returns it (Kafka's
    /// ClientRequestQuotaManager: the throttle time also goes into the response).
    static func recordRequestTime(_ quotas: ClientQuotaEnforcer, _ context: RequestContext, since started: UInt64) -> Int32 {
        let elapsed = NIODeadline.now().uptimeNanoseconds &- started
        let throttleMs = quotas.recordRequestTime(
            user: context.principal.name, clientId: context.clientId ?? "", nanoseconds: elapsed, nowMs: ProduceHandler.nowMs())
        context.throttle?.mute(forMilliseconds: throttleMs)
        return throttleMs
    }
}
