import Atomics
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// One Kafka-protocol TCP listener: accepts connections and serves each with a ``KafkaConnectionHandler``,
/// behind TLS on SSL and SASL_SSL listeners.
///
/// Runs on the given event loop group (one loop per core). `start` binds and returns the bound address;
/// `stop` closes the listener and every connection. Thread-safe.
public final class KafkaServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// Kafka's `socket.request.max.bytes`: the largest request frame accepted.
        public var maximumRequestSize: Int
        /// Requests handled at once per connection before the connection stops reading.
        public var maximumInFlightPerConnection: Int
        /// Bytes of request frames handled at once per connection before the connection stops reading.
        public var maximumInFlightBytesPerConnection: Int
        /// Kafka's `max.connections` and `max.connections.per.ip`.
        public var maximumConnections: Int
        public var maximumConnectionsPerIp: Int

        public init(
            host: String = "127.0.0.1", port: Int = 9092, maximumRequestSize: Int = 104_857_600,
            maximumInFlightPerConnection: Int = 64, maximumInFlightBytesPerConnection: Int = 104_857_600,
            maximumConnections: Int = Int(Int32.max), maximumConnectionsPerIp: Int = Int(Int32.max)
        ) {
            self.maximumConnections = maximumConnections
            self.maximumConnectionsPerIp = maximumConnectionsPerIp
            self.maximumInFlightBytesPerConnection = maximumInFlightBytesPerConnection
            self.host = host
            self.port = port
            self.maximumRequestSize = maximumRequestSize
            self.maximumInFlightPerConnection = maximumInFlightPerConnection
        }
    }

    private let configuration: Configuration
    private let group: EventLoopGroup
    private let logger: Logger
    private let channel: NIOLockedValueBox<Channel?> = NIOLockedValueBox(nil)
    private let connections = ManagedAtomic<UInt64>(0)

    private let metrics: BrokerMetrics?
    private let limiter: ConnectionLimiter
    private let refusals: RefusalLog
    private let requestMemory: RequestMemoryPool
    private let listener: ListenerRuntime?

    public convenience init(configuration: Configuration, group: EventLoopGroup, logger: Logger, metrics: BrokerMetrics? = nil) {
        self.init(configuration: configuration, group: group, logger: logger, metrics: metrics, listener: nil, shared: nil)
    }

    /// A listener with its security (`nil`: plaintext) sharing the connection limits and request memory of
    /// `shared` (the broker's first listener), so that `max.connections` counts every listener.
    init(
        configuration: Configuration, group: EventLoopGroup, logger: Logger, metrics: BrokerMetrics?,
        listener: ListenerRuntime?, shared: KafkaServer?
    ) {
        self.metrics = metrics
        self.listener = listener
        refusals = shared?.refusals ?? RefusalLog(logger: logger, metrics: metrics)
        requestMemory = shared?.requestMemory ?? RequestMemoryPool(capacity: configuration.maximumInFlightBytesPerConnection)
        limiter = shared?.limiter ?? ConnectionLimiter(
            maximumConnections: configuration.maximumConnections,
            maximumConnectionsPerIp: configuration.maximumConnectionsPerIp, refusals: refusals)
        self.configuration = configuration
        self.group = group
        self.logger = logger
    }

    /// Binds the listener and starts serving with `router`; returns the bound address.
    public func start(router: RequestRouter) async throws -> SocketAddress {
        let configuration = self.configuration
        let logger = self.logger
        let connections = self.connections
        let metrics = self.metrics
        let limiter = self.limiter
        let refusals = self.refusals
        let requestMemory = self.requestMemory
        let listener = self.listener
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorLogger(refusals: refusals))
                }
            }
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = connections.loadThenWrappingIncrement(ordering: .relaxed)
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimiter.Handler(limiter: limiter))
                    if let tls = listener?.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        KafkaFrameAssembler(maximumFrameSize: configuration.maximumRequestSize, budget: requestMemory))
                    try channel.pipeline.syncOperations.addHandler(
                        KafkaConnectionHandler(
                            router: router, logger: logger, connectionId: id,
                            maximumInFlight: configuration.maximumInFlightPerConnection,
                            maximumInFlightBytes: configuration.maximumInFlightBytesPerConnection, metrics: metrics,
                            listener: listener))
                }
            }
        let bound = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        channel.withLockedValue { $0 = bound }
        guard let address = bound.localAddress else {
            throw BrokerError(.io, "listener has no local address")
        }
        logger.info("listening", metadata: ["address": "\(address)", "listener": "\(listener?.name ?? "PLAINTEXT")"])
        return address
    }

    /// Closes the listener; open connections are closed by the event loop group's shutdown.
    public func stop() async {
        let bound = channel.withLockedValue { channel -> Channel? in
            defer { channel = nil }
            return channel
        }
        try? await bound?.close()
    }

    /// Completes when the listener closes.
    public func waitUntilClosed() async {
        let bound = channel.withLockedValue { $0 }
        try? await bound?.closeFuture.get()
    }
}

/// Logs (once per burst) and counts failures of accept(2) on the listener, such as running out of file
/// descriptors; NIO's accept back-off then retries. Event-loop confined.
final class AcceptErrorLogger: ChannelInboundHandler {
    typealias InboundIn = Channel

    private let refusals: RefusalLog

    init(refusals: RefusalLog) {
        self.refusals = refusals
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        refusals.refused(.acceptFailed, "accepting a connection failed (descriptors or memory exhausted?): \(error)")
        context.fireErrorCaught(error)
    }
}
