import Foundation
import Testing
@testable import LogEngine

/// Parallel rewrites of a round's groups, swapped strictly in order; a failure stops the round and discards what
/// will not be swapped.
struct CleanerGroupPipelineTests {
    /// Records what the steps did, from any thread.
    final class Journal: @unchecked Sendable {
        private let lock = NSLock()
        private var swappedGroups: [Int] = []
        private var discardedGroups: [Int] = []
        private var rewriting = 0
        private(set) var mostRewritingAtOnce = 0

        /// Runs `body` as a rewrite, counting the rewrites under way.
        func rewrite<T>(_ body: () throws -> T) rethrows -> T {
            lock.withLock {
                rewriting += 1
                mostRewritingAtOnce = max(mostRewritingAtOnce, rewriting)
            }
            defer { lock.withLock { rewriting -= 1 } }
            return try body()
        }
        func swapped(_ index: Int) { lock.withLock { swappedGroups.append(index) } }
        func discarded(_ index: Int) { lock.withLock { discardedGroups.append(index) } }
        var swaps: [Int] { lock.withLock { swappedGroups } }
        var discards: [Int] { lock.withLock { discardedGroups } }
    }

    struct Failure: Error {}

    @Test func groupsRewrittenInParallelAreSwappedInOrder() throws {
        let journal = Journal()
        try CleanerGroupPipeline.run(
            groups: 12, workers: 3,
            rewrite: { index in
                journal.rewrite {
                    // Later groups finish first.
                    usleep(useconds_t((12 - index) * 2_000))
                    return index
                }
            },
            swap: { journal.swapped($0) },
            discard: { journal.discarded($0) })
        #expect(journal.swaps == Array(0..<12))
        #expect(journal.discards.isEmpty)
    }

    @Test func aFailedRewriteStopsTheSwapsAfterIt_andDiscardsTheirGroups() {
        let journal = Journal()
        #expect(throws: Failure.self) {
            try CleanerGroupPipeline.run(
                groups: 8, workers: 2,
                rewrite: { index in
                    if index == 3 { usleep(20_000); throw Failure() }
                    return index
                },
                swap: { journal.swapped($0) },
                discard: { journal.discarded($0) })
        }
        let swaps = journal.swaps
        #expect(swaps == Array(0..<swaps.count))
        #expect(swaps.count <= 3)
        #expect(!swaps.contains(3))
        #expect(journal.discards.allSatisfy { $0 > 3 })
    }

    @Test func oneWorkerIsTheSequentialLoop() throws {
        let journal = Journal()
        try CleanerGroupPipeline.run(
            groups: 5, workers: 1,
            rewrite: { index in journal.rewrite { index } },
            swap: { journal.swapped($0) }, discard: { journal.discarded($0) })
        #expect(journal.swaps == Array(0..<5))
        #expect(journal.mostRewritingAtOnce == 1)
    }
}
