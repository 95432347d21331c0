/// What loading `__consumer_offsets` at start-up had to skip: records that could not be decoded, batches
/// that could not be read, partitions whose log could not be read on. Loading never fails as a whole; the
/// coordinator logs the report once, with the counts and the first few problems. A value type; thread-safe.
struct OffsetsTopicLoadReport: Sendable, Equatable {
    /// Records skipped: undecodable keys or values, records past a framing error in their batch, records of
    /// batches that could not be read (compressed or corrupt) as far as their header tells.
    var skippedRecords = 0
    /// Batches skipped whole (corrupt, compressed) or from the first unreadable record on.
    var skippedBatches = 0
    /// Partitions whose reading stopped early (a read error); what came before is kept.
    var unreadablePartitions = 0
    /// The first `maxProblems` problems, for the log line.
    var problems: [String] = []

    static let maxProblems = 5

    /// Whether nothing was skipped.
    var isEmpty: Bool { skippedRecords == 0 && skippedBatches == 0 && unreadablePartitions == 0 }

    mutating func skippedRecord(_ problem: @autoclosure () -> String) {
        skippedRecords += 1
        note(problem())
    }

    /// A batch skipped from some record on: `records` is how many of its records are lost (0 when unknown).
    mutating func skippedBatch(records: Int, _ problem: @autoclosure () -> String) {
        skippedBatches += 1
        skippedRecords += max(0, records)
        note(problem())
    }

    mutating func unreadablePartition(_ problem: @autoclosure () -> String) {
        unreadablePartitions += 1
        note(problem())
    }

    private mutating func note(_ problem: @autoclosure () -> String) {
        if problems.count < Self.maxProblems { problems.append(problem()) }
    }
}
