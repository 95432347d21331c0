import Foundation

/// Runs the rewrites of a cleaning round's groups of segments on several threads while the swaps happen strictly
/// in group (log) order.
///
/// Each worker takes the lowest group not yet taken, rewrites it (`rewrite`: a `.cleaned` segment), waits until
/// every lower group is swapped in, and swaps its own (`swap`). So while a `.swap` file exists, every `.cleaned`
/// file has a higher base offset, which is what start-up recovery (Kafka's `LogLoader`: a `.swap` at or above the
/// lowest `.cleaned` is discarded) needs to finish or discard each state correctly after a crash. The first error
/// (of a rewrite or a swap) stops the round: no further group is taken or swapped, and rewritten groups that
/// will not be swapped are handed to `discard`.
///
/// With one worker (or one group) it is the plain sequential loop. Workers are the calling thread plus threads of
/// Dispatch's pool (`DispatchQueue.concurrentPerform`); when the pool runs them one after the other the result is
/// the same, only slower.
///
/// Thread-safety: `run` is called from one thread; the closures are called concurrently from `workers` threads.
enum CleanerGroupPipeline {
    static func run<Cleaned>(
        groups count: Int, workers: Int, rewrite: (Int) throws -> Cleaned, swap: (Cleaned) throws -> Void,
        discard: (Cleaned) -> Void
    ) throws {
        guard workers > 1, count > 1 else {
            for index in 0..<count { try swap(try rewrite(index)) }
            return
        }
        let order = Order(count: count)
        withoutActuallyEscaping(rewrite) { rewrite in
            withoutActuallyEscaping(swap) { swap in
                withoutActuallyEscaping(discard) { discard in
                    // The closures run on the workers; the caller waits for all of them (concurrentPerform), and
                    // `Order` makes the swaps happen one after the other.
                    let steps = Steps(rewrite: rewrite, swap: swap, discard: discard)
                    DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
                        steps.work(order)
                    }
                }
            }
        }
        if let failure = order.failure { throw failure }
    }

    /// The three steps, carried to the worker threads.
    private struct Steps<Cleaned>: @unchecked Sendable {
        let rewrite: (Int) throws -> Cleaned
        let swap: (Cleaned) throws -> Void
        let discard: (Cleaned) -> Void

        func work(_ order: Order) {
            while let index = order.take() {
                let cleaned: Cleaned
                do {
                    cleaned = try rewrite(index)
                } catch {
                    order.fail(error)
                    return
                }
                guard order.waitForTurn(index) else {
                    discard(cleaned)
                    return
                }
                do {
                    try swap(cleaned)
                } catch {
                    order.fail(error)
                    return
                }
                order.swapped(index)
                // The result (a group's replaced segments) is released here, after the next swap may begin.
                withExtendedLifetime(cleaned) {}
            }
        }
    }

    /// Which group is next to take and to swap, and the first failure; guarded by a condition variable.
    private final class Order: @unchecked Sendable {
        private let condition = NSCondition()
        private let count: Int
        private var nextToTake = 0
        private var nextToSwap = 0
        private var firstFailure: Error?

        init(count: Int) {
            self.count = count
        }

        var failure: Error? {
            condition.lock()
            defer { condition.unlock() }
            return firstFailure
        }

        /// The lowest group not taken yet; nil when none is left or the round failed.
        func take() -> Int? {
            condition.lock()
            defer { condition.unlock() }
            guard firstFailure == nil, nextToTake < count else { return nil }
            nextToTake += 1
            return nextToTake - 1
        }

        /// Waits until every group below `index` is swapped; false when the round failed meanwhile.
        func waitForTurn(_ index: Int) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while nextToSwap < index && firstFailure == nil { condition.wait() }
            return firstFailure == nil
        }

        func swapped(_ index: Int) {
            condition.lock()
            nextToSwap = index + 1
            condition.broadcast()
            condition.unlock()
        }

        func fail(_ error: Error) {
            condition.lock()
            if firstFailure == nil { firstFailure = error }
            condition.broadcast()
            condition.unlock()
        }
    }
}
