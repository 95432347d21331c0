import KafkaProtocol

/// A handler's declaration of whether its ordered phase may block the thread it runs on: file creation or
/// deletion, fsync, directory sync, or CPU work in proportion to client input (decompression, format
/// conversion). `ApiHandler` runs the phase on NIO's thread pool (`BlockingWork`) for the requests the
/// declaration covers, on the connection's event loop for all others. Immutable; thread-safe.
public struct Blocking<Request>: Sendable {
    let kind: BlockingKind
    let mayBlock: @Sendable (Request, Int16) -> Bool

    /// Every request may block (topic creation and deletion, config changes that are persisted).
    public static var always: Blocking { Blocking(kind: .always) { _, _ in true } }

    /// The requests for which `test(request, version)` holds may block (e.g. produce requests that need format
    /// conversion or recompression).
    public static func when(_ test: @escaping @Sendable (Request, Int16) -> Bool) -> Blocking {
        Blocking(kind: .sometimes, mayBlock: test)
    }
}

/// What an `ApiHandler` declared about blocking, for introspection (tests, diagnostics).
public enum BlockingKind: Sendable, Equatable {
    /// Never blocks: runs on the connection's event loop.
    case never
    /// Blocks for some requests, which run on the thread pool.
    case sometimes
    /// Always runs on the thread pool.
    case always
}
