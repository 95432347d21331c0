import Dispatch
import NIOConcurrencyHelpers

/// Runs asynchronous cluster-metadata work from synchronous code that may block its thread (admin paths on the
/// thread pool): the work runs on a task of its own while the caller waits, at most `timeout`; then the task is
/// cancelled and the caller gets `BrokerError(.metadataUnavailable)`. Never call it from a task of Swift's
/// cooperative pool. Stateless; thread-safe.
enum BlockingAwait {
    static func run<T: Sendable>(timeout: Duration, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        let task = Task.detached {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            result.withLockedValue { $0 = outcome }
            done.signal()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        guard done.wait(timeout: .now() + seconds) == .success, let outcome = result.withLockedValue({ $0 }) else {
            task.cancel()
            throw BrokerError(.metadataUnavailable, "no answer from the metadata store within \(timeout)")
        }
        return try outcome.get()
    }
}
