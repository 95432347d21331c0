import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves `GET /metrics` in Prometheus text format on the `metrics.listener` address (e.g.
/// `http://127.0.0.1:9404`); every other path answers 404. Thread-safe.
final class MetricsServer: Sendable {
    private let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    /// Parses `http://host:port`.
    static func parse(_ listener: String) throws -> (host: String, port: Int) {
        let trimmed = listener.hasPrefix("http://") ? String(listener.dropFirst("http://".count)) : listener
        guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw BrokerError(.configuration, "metrics.listener '\(listener)' is not of the form http://host:port")
        }
        return (String(trimmed[..<colon]), port)
    }

    static func start(
        listener: String, group: EventLoopGroup, logger: Logger, render: @escaping @Sendable () -> String
    ) async throws -> MetricsServer {
        let (host, port) = try parse(listener)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MetricsHTTPHandler(render: render))
                }
            }
            .bind(host: host, port: port).get()
        logger.info("metrics listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? listener)"])
        return MetricsServer(channel: channel)
    }

    var localAddress: SocketAddress? { channel.localAddress }

    func stop() async {
        try? await channel.close()
    }

    /// Completes when the listener has closed.
    func waitUntilClosed() async {
        try? await channel.closeFuture.get()
    }
}

/// Answers one HTTP request at a time on a metrics connection. Event-loop confined.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable () -> String
    private var path = ""

    init(render: @escaping @Sendable () -> String) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        case .body:
            break
        case .end:
            let found = path == "/metrics"
            let body = found ? render() : "not found\n"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            let head = HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
