extension PartitionLog {
    /// Reads the directory: removes leftovers of interrupted deletions, opens every segment, recovers those
    /// after the recovery point (and everything after the first truncation) and prepares the active segment.
    static func loadSegments(
        directory: String, config: LogConfig, nowMs: Int64, recoveryPoint: Int64, logStartOffset: Int64,
        stats: inout RecoveryStats
    ) throws -> [LogSegment] {
        var baseOffsets: [Int64] = []
        for name in try FileSystem.list(directory) {
            if name.hasSuffix(".deleted") || name.hasSuffix(".cleaned") || name.hasSuffix(".swap")
                || name.hasSuffix(".tmp")
            {
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
}
