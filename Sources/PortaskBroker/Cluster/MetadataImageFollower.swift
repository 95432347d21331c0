import Logging
import NIOConcurrencyHelpers

/// Keeps a `MetadataImage` current: reads the whole root once, then watches from the next revision; when the
/// watch's revision has been compacted away, or the store fails, it reads again (after `retryDelay`) and goes
/// on. Thread-safe: `image` may be read from any thread at any time; `run()` is called once.
public final class MetadataImageFollower: Sendable {
    public let store: any MetadataStore
    private let retryDelay: Duration
    private let logger: Logger
    private let current = NIOLockedValueBox(MetadataImage())
    private let listeners = NIOLockedValueBox<[@Sendable (MetadataImage) -> Void]>([])

    public init(store: any MetadataStore, retryDelay: Duration = .milliseconds(200), logger: Logger) {
        self.store = store
        self.retryDelay = retryDelay
        self.logger = logger
    }

    /// The latest image.
    public var image: MetadataImage { current.withLockedValue { $0 } }

    /// Calls `listener` with every new image (from the follower's task; keep it short). At most a handful are
    /// expected: each broker component registers one.
    public func onChange(_ listener: @escaping @Sendable (MetadataImage) -> Void) {
        listeners.withLockedValue { $0.append(listener) }
    }

    /// Follows the store until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                let snapshot = try await store.read(prefix: "")
                publish(MetadataImage(snapshot: snapshot))
                try await store.watch(prefix: "", fromRevision: snapshot.revision &+ 1) { changes, revision in
                    var next = self.image
                    next.apply(changes, revision: revision)
                    self.publish(next)
                }
            } catch is CancellationError {
                return
            } catch let error as BrokerError where error.code == .metadataCompacted {
                logger.info("metadata watch fell behind compaction; reading again")
                continue
            } catch {
                logger.warning("metadata watch failed; reading again", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: retryDelay) } catch { return }
        }
    }

    /// Waits until the image has reached `revision` (or `timeout` passed); returns the image then.
    public func waitFor(revision: Int64, timeout: Duration = .seconds(10)) async -> MetadataImage {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let seen = image
            if seen.revision >= revision || ContinuousClock.now >= deadline || Task.isCancelled { return seen }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func publish(_ image: MetadataImage) {
        current.withLockedValue { $0 = image }
        for listener in listeners.withLockedValue({ $0 }) { listener(image) }
    }
}
