import KafkaProtocol
import NIOCore
import NIOPosix

/// One client connection to a Kafka broker: request frames out, response frames matched to their requests.
///
/// Kafka answers the requests of one connection in order, so responses are matched to a FIFO of promises.
/// Thread-safety: `send` must run on the connection's event loop (`eventLoop`); `request` may be called from
/// anywhere. The mutable state (correlation counter, the handler's FIFO) is confined to that loop, which is why
/// the class is `@unchecked Sendable`.
final class BenchConnection: @unchecked Sendable {
    let channel: Channel
    let eventLoop: EventLoop
    let clientId: String
    private let matcher: ResponseMatcher
    private var nextCorrelationId: Int32 = 1

    private init(channel: Channel, matcher: ResponseMatcher, clientId: String) {
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.matcher = matcher
        self.clientId = clientId
    }

    /// Connects to `host:port` on `group` (TCP_NODELAY, 4 MiB socket buffers).
    static func connect(host: String, port: Int, group: EventLoopGroup, clientId: String) async throws
        -> BenchConnection
    {
        let matcher = ResponseMatcher()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                minimum: 64 << 10, initial: 1 << 20, maximum: 8 << 20))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: 1 << 30)))
                    try channel.pipeline.syncOperations.addHandler(matcher)
                }
            }
            .connect(host: host, port: port).get()
        return BenchConnection(channel: channel, matcher: matcher, clientId: clientId)
    }

    /// Encodes and writes `body`; the future yields the response frame (without size prefix), or `nil` once the
    /// frame is written when `expectsResponse` is false (acks=0). Must be called on `eventLoop`.
    func send<Request: KafkaRequestMessage>(
        _ body: Request, version: Int16, expectsResponse: Bool = true, flush: Bool = true
    ) -> EventLoopFuture<ByteBuffer?> {
        eventLoop.preconditionInEventLoop()
        let correlationId = nextCorrelationId
        nextCorrelationId &+= 1
        let frame: ByteBuffer
        do {
            frame = try KafkaRequest.frame(body, version: version, correlationId: correlationId, clientId: clientId)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let written = eventLoop.makePromise(of: Void.self)
        let result: EventLoopFuture<ByteBuffer?>
        if expectsResponse {
            let promise = eventLoop.makePromise(of: ByteBuffer?.self)
            matcher.enqueue(correlationId: correlationId, promise: promise)
            result = promise.futureResult
        } else {
            // No response will come: the request is done once the socket took it.
            result = written.futureResult.map { nil }
        }
        if flush {
            channel.writeAndFlush(frame, promise: written)
        } else {
            channel.write(frame, promise: written)
        }
        return result
    }

    /// Sends `body` from any thread and decodes its response.
    func request<Request: KafkaRequestMessage, Response: KafkaResponseMessage>(
        _ body: Request, version: Int16, response: Response.Type
    ) async throws -> Response {
        let frame = try await eventLoop.flatSubmit { self.send(body, version: version) }.get()
        guard let frame else { throw BenchError("\(Request.self) had no response") }
        return try KafkaResponseFrame.decode(Response.self, frame: frame, version: version).body
    }

    func close() async {
        try? await channel.close().get()
    }
}
