import Testing
@testable import LogEngine

struct LeaderEpochCacheTests {
    private func cache(_ pairs: [(Int32, Int64)]) -> LeaderEpochCache {
        LeaderEpochCache(entries: pairs.map { LeaderEpochCache.Entry(epoch: $0.0, startOffset: $0.1) })
    }

    private func pairs(_ cache: LeaderEpochCache) -> [String] { cache.entries.map(\.description) }

    /// Runs a mutation and returns what it reported (whether the cache changed).
    private func changed(_ cache: inout LeaderEpochCache, _ mutation: (inout LeaderEpochCache) -> Bool) -> Bool {
        mutation(&cache)
    }

    @Test func assign_keepsEntriesMonotonicAsKafkaDoes() {
        var epochs = LeaderEpochCache()
        #expect(changed(&epochs) { $0.assign(epoch: 0, startOffset: 0) })
        #expect(!changed(&epochs) { $0.assign(epoch: 0, startOffset: 5) }, "the same epoch later changes nothing")
        #expect(changed(&epochs) { $0.assign(epoch: 2, startOffset: 10) })
        #expect(changed(&epochs) { $0.assign(epoch: 4, startOffset: 20) })
        #expect(!changed(&epochs) { $0.assign(epoch: -1, startOffset: 30) }, "batches without an epoch are ignored")
        #expect(pairs(epochs) == ["0 0", "2 10", "4 20"])
        // A new epoch starting below existing entries replaces them (Kafka's maybeTruncateNonMonotonicEntries).
        #expect(changed(&epochs) { $0.assign(epoch: 3, startOffset: 15) })
        #expect(pairs(epochs) == ["0 0", "2 10", "3 15"])
        #expect(changed(&epochs) { $0.assign(epoch: 3, startOffset: 12) }, "the same epoch starting earlier moves back")
        #expect(pairs(epochs) == ["0 0", "2 10", "3 12"])
    }

    @Test func endOffset_followsKafkasEndOffsetFor() {
        let epochs = cache([(1, 5), (3, 10), (6, 20)])
        #expect(epochs.endOffset(for: 6, logEndOffset: 42) == (6, 42))
        #expect(epochs.endOffset(for: 3, logEndOffset: 42) == (3, 20))
        #expect(epochs.endOffset(for: 4, logEndOffset: 42) == (3, 20), "an epoch never led reports the one before it")
        #expect(epochs.endOffset(for: 0, logEndOffset: 42) == (0, 5), "older than the cache: the first start offset")
        #expect(epochs.endOffset(for: 7, logEndOffset: 42) == (-1, -1))
        #expect(epochs.endOffset(for: -1, logEndOffset: 42) == (-1, -1))
        #expect(LeaderEpochCache().endOffset(for: 0, logEndOffset: 42) == (-1, -1))
    }

    @Test func truncation_cutsBothEnds() {
        var epochs = cache([(1, 5), (3, 10), (6, 20)])
        #expect(changed(&epochs) { $0.truncateFromEnd(20) })
        #expect(pairs(epochs) == ["1 5", "3 10"])
        #expect(!changed(&epochs) { $0.truncateFromEnd(25) })
        #expect(changed(&epochs) { $0.truncateFromStart(12) })
        #expect(pairs(epochs) == ["3 12"], "the epoch holding the new start moves up to it")
        #expect(!changed(&epochs) { $0.truncateFromStart(12) })
        #expect(!changed(&epochs) { $0.truncateFromStart(2) })
    }

    @Test func file_roundTripsInKafkasFormat() throws {
        let directory = TemporaryDirectory()
        try cache([(0, 0), (5, 100)]).write(directory: directory.path)
        #expect(try FileSystem.readString(directory.file("leader-epoch-checkpoint")) == "0\n2\n0 0\n5 100\n")
        #expect(try LeaderEpochCache.read(directory: directory.path) == cache([(0, 0), (5, 100)]))
        #expect(try LeaderEpochCache.read(directory: directory.path + "/absent") == nil)
    }

    @Test func parse_refusesMalformedOrUnorderedFiles() throws {
        for text in ["", "1\n0\n", "0\n3\n0 0\n", "0\n1\n0\n", "0\n1\nx 0\n", "0\n1\n0 -4\n", "0\n2\n2 5\n1 9\n",
                     "0\n2\n1 5\n2 5\n", "0\n1\n99999999999 0\n", "0\n-1\n"] {
            #expect(throws: LogEngineError.self, "\(text.debugDescription)") {
                try LeaderEpochCache(parsing: text, path: "test")
            }
        }
        #expect(try LeaderEpochCache(parsing: "0\n1\n7 3\n", path: "test").entries == [.init(epoch: 7, startOffset: 3)])
    }
}
