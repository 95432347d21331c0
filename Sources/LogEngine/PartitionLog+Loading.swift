extension PartitionLog {
    /// Reads the directory: removes leftovers of interrupted deletions, opens every segment, recovers those
    /// after the recovery point (and everything after the first truncation) and prepares the active segment.
    static func loadSegments(
        directory: String, config: LogConfig, nowMs: Int64, recoveryPoint: Int64, logStartOffset: Int64,
        stats: inout RecoveryStats
    ) throws -> [LogSegment] {
        try completeInterruptedSwaps(directory: directory, config: config, nowMs: nowMs, stats: &stats)
        var baseOffsets: [Int64] = []
        for name in try FileSystem.list(directory) {
            if name.hasSuffix(".deleted") || name.hasSuffix(".tmp") {
                try FileSystem.unlink(directory + "/" + name)
            } else if name.hasSuffix(".log"), name.count == 24, let base = Int64(name.prefix(20)) {
                // A base offset must leave room for the 32-bit relative offsets of the segment's batches.
                guard base >= 0, base <= Int64.max - Int64(UInt32.max) else {
                    stats.warnings.append("segment \(directory)/\(name) skipped: base offset \(base) out of range")
                    continue
                }
                baseOffsets.append(base)
            }
        }
        baseOffsets.sort()
        // Index files without a log file are orphans.
        let known = Set(baseOffsets)
        for name in try FileSystem.list(directory) where name.hasSuffix(".index") || name.hasSuffix(".timeindex")
            || name.hasSuffix(".txnindex")
        {
            if let base = Int64(name.prefix(20)), name.count >= 26, !known.contains(base) {
                try FileSystem.unlink(directory + "/" + name)
            }
        }
        if baseOffsets.isEmpty {
            let base = max(logStartOffset, 0)
            return [try LogSegment.create(directory: directory, baseOffset: base, config: config, nowMs: nowMs)]
        }
        var segments: [LogSegment] = []
        var truncatedAt: Int? = nil
        for (index, base) in baseOffsets.enumerated() {
            let segment = try LogSegment.open(directory: directory, baseOffset: base, config: config, nowMs: nowMs)
            if truncatedAt != nil {
                // Segments after a truncated one would leave a hole: remove them.
                stats.bytesTruncated += segment.size
                try segment.delete()
                continue
            }
            let isLast = index == baseOffsets.count - 1
            let nextBase = isLast ? Int64.max : baseOffsets[index + 1]
            var needsScan = base >= recoveryPoint
            if !needsScan && (isLast || nextBase > recoveryPoint) {
                // The segment holding the recovery point: scan only if data lies beyond it.
                try segment.ensureLoaded()
                needsScan = segment.storedWriterState.nextOffset > recoveryPoint || segment.hasInvalidTail
            }
            if needsScan {
                let result = try segment.recover(truncate: true)
                stats.segmentsScanned += 1
                stats.bytesScanned += result.scannedBytes
                stats.bytesTruncated += result.invalidBytes
                try segment.flush()
                if result.invalidBytes > 0 { truncatedAt = index }
                if !isLast {
                    try segment.trimIndexes(segment.storedWriterState)
                    segment.dropMapping()
                }
            }
            segments.append(segment)
        }
        guard let active = segments.last else { return segments }
        try active.ensureLoaded()
        try active.becomeActive()
        return segments
    }

    /// Finishes or discards a cleaner swap that a crash interrupted, as Kafka's `LogLoader` does:
    /// 1. `*.deleted` and `*.cleaned` files are removed (a `.cleaned` segment was never swapped in); `.swap`
    ///    offset and time index files too (they are rebuilt), and `.swap` log files at or above the lowest
    ///    `.cleaned` base offset (a split that could not complete);
    /// 2. each remaining `<base>.log.swap` replaces the segments whose base offsets lie in `[base, its next
    ///    offset)`: their files are deleted, with any index of `base`;
    /// 3. the `.swap` log files, and the `.txnindex.swap` files of the same base offsets, are renamed to their
    ///    final names (other `.txnindex.swap` files are removed).
    static func completeInterruptedSwaps(
        directory: String, config: LogConfig, nowMs: Int64, stats: inout RecoveryStats
    ) throws {
        let names = try FileSystem.list(directory)
        var minCleaned = Int64.max
        var swaps: [Int64] = []
        var transactionSwaps: [String] = []
        for name in names {
            let path = directory + "/" + name
            if name.hasSuffix(".deleted") {
                try FileSystem.unlink(path)
            } else if name.hasSuffix(".cleaned") {
                if let base = Int64(name.prefix(20)), name.utf8.count >= 20 { minCleaned = min(minCleaned, base) }
                try FileSystem.unlink(path)
                stats.warnings.append("removed \(path) of a cleaning that did not finish")
            } else if name.hasSuffix(".swap") {
                if name.hasSuffix(".log.swap"), name.utf8.count == 29, let base = Int64(name.prefix(20)), base >= 0 {
                    swaps.append(base)
                } else if name.hasSuffix(".txnindex.swap"), name.utf8.count == 34, Int64(name.prefix(20)) != nil {
                    transactionSwaps.append(name)
                } else {
                    try FileSystem.unlink(path)
                }
            }
        }
        defer {
            for name in transactionSwaps { try? FileSystem.unlink(directory + "/" + name) }
        }
        guard !swaps.isEmpty else { return }
        var ranges: [Range<Int64>] = []
        for base in swaps.sorted() {
            let swapName = LogSegment.fileName(base, suffix: ".log.swap")
            if base >= minCleaned {
                try FileSystem.unlink(directory + "/" + swapName)
                stats.warnings.append("discarded \(directory)/\(swapName) of an incomplete swap")
                continue
            }
            let segment = try LogSegment.open(
                directory: directory, baseOffset: base, config: config, nowMs: nowMs, fileSuffix: ".swap")
            var next = base
            let (mapping, bytes) = try segment.view()
            withExtendedLifetime(mapping) {
                for batch in RecordBatchSequence(bytes, check: .structure) where batch.header.hasStorableBaseOffset {
                    next = max(next, batch.header.nextOffset)
                }
            }
            ranges.append(base..<max(next, base + 1))
        }
        let segmentSuffixes = [".log", ".index", ".timeindex", ".txnindex"]
        for name in try FileSystem.list(directory) where !name.hasSuffix(".swap") {
            guard name.utf8.count > 20, let base = Int64(name.prefix(20)),
                  segmentSuffixes.contains(String(name.dropFirst(20))),
                  ranges.contains(where: { $0.contains(base) })
            else { continue }
            try FileSystem.unlink(directory + "/" + name)
        }
        for range in ranges {
            let final = directory + "/" + LogSegment.fileName(range.lowerBound, suffix: ".log")
            try FileSystem.rename(final + ".swap", final)
            let transactionIndex = TransactionIndex.path(directory: directory, baseOffset: range.lowerBound)
            if FileSystem.exists(transactionIndex + ".swap") { try FileSystem.rename(transactionIndex + ".swap", transactionIndex) }
            stats.warnings.append("completed the interrupted swap of \(final)")
        }
        try FileSystem.syncDirectory(directory)
    }
}
