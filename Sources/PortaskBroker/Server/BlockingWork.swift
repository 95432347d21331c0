import NIOPosix

/// Runs work that blocks or burns CPU in proportion to client input — file and directory creation, deletion
/// and syncs, message-format conversion, recompression — on NIO's shared thread pool rather than on an event
/// loop, so one such request cannot stall the other connections of its loop. Stateless; thread-safe.
enum BlockingWork {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
