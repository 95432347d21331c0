import Logging
import NIOCore
import ServiceLifecycle

/// The Prometheus endpoint (`metrics.listener`) as a `Service`: binds at start, closes at graceful shutdown.
/// Thread-safe.
struct MetricsService: Service {
    let listener: String
    let group: EventLoopGroup
    let logger: Logger
    let render: @Sendable () -> String

    func run() async throws {
        let server = try await MetricsServer.start(listener: listener, group: group, logger: logger, render: render)
        await withGracefulShutdownHandler {
            await server.waitUntilClosed()
        } onGracefulShutdown: {
            Task { await server.stop() }
        }
    }
}
