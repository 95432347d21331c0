import NIOConcurrencyHelpers
import NIOCore

/// Kafka's `max.connections` and `max.connections.per.ip`: counts open connections, broker-wide and per client
/// IP address, and closes a new connection that would pass either bound (logged once per burst and counted as a
/// refusal). Shared by every connection of a listener; thread-safe.
final class ConnectionLimiter: Sendable {
    private struct Counts {
        var total = 0
        var perAddress: [String: Int] = [:]
    }

    let maximumConnections: Int
    let maximumConnectionsPerIp: Int
    private let counts = NIOLockedValueBox(Counts())
    private let refusals: RefusalLog?

    init(maximumConnections: Int, maximumConnectionsPerIp: Int, refusals: RefusalLog?) {
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerIp = maximumConnectionsPerIp
        self.refusals = refusals
    }

    /// Open connections now.
    var openConnections: Int { counts.withLockedValue { $0.total } }

    /// Takes a place for a connection from `address`; `nil` when it is taken, else the limit that refused it.
    func acquire(address: String) -> RefusalCause? {
        counts.withLockedValue { counts in
            if counts.total >= maximumConnections { return .maxConnections }
            if counts.perAddress[address, default: 0] >= maximumConnectionsPerIp { return .maxConnectionsPerIp }
            counts.total += 1
            counts.perAddress[address, default: 0] += 1
            return nil
        }
    }

    func release(address: String) {
        counts.withLockedValue { counts in
            counts.total -= 1
            let left = counts.perAddress[address, default: 1] - 1
            counts.perAddress[address] = left > 0 ? left : nil
        }
    }

    /// The pipeline handler of one connection: acquires on activation (closing the connection when refused)
    /// and releases on deactivation. Event-loop confined.
    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private let limiter: ConnectionLimiter
        private var address: String?

        init(limiter: ConnectionLimiter) {
            self.limiter = limiter
        }

        func channelActive(context: ChannelHandlerContext) {
            let address = context.remoteAddress?.ipAddress ?? ""
            if let cause = limiter.acquire(address: address) {
                let limit = cause == .maxConnections ? limiter.maximumConnections : limiter.maximumConnectionsPerIp
                limiter.refusals?.refused(
                    cause, "connection from \(address) closed: \(cause == .maxConnections ? "max.connections" : "max.connections.per.ip") (\(limit)) reached")
                context.close(promise: nil)
                return
            }
            self.address = address
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard address != nil else { return }
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            guard let address else { return }
            self.address = nil
            limiter.release(address: address)
            context.fireChannelInactive()
        }
    }
}
