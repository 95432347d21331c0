import Atomics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One segment of a partition log: `<baseOffset>.log` with its `.index` and `.timeindex`, file names being the
/// base offset as 20 zero-padded digits. The `.log` file is record batches v2 back to back, exactly as on the
/// wire; see `RecordBatchHeader` for the batch layout and `OffsetIndex` / `TimeIndex` for the indexes.
///
/// Appends go through one `pwrite` per append; reads (header scans, lookups, recovery, copies) go through a
/// shared read-only memory mapping that reserves address space ahead of the file's end.
///
/// Thread-safety: one writer at a time (the owning `PartitionLog` serialises appends, rolls, recovery and
/// deletion, and owns the active segment's `WriterState`); readers on any thread see the bytes below `size`,
/// which is published after the data is written. See `CONCURRENCY.md`.
/// The mapping lives as long as the segment object, and a `FileSlice` holds its own reference to the file's
/// descriptor, so a reader holding a segment (or a slice of it) stays safe after the segment is deleted from the
/// log. The descriptor is opened on first use and closed again by `releaseDescriptorIfIdle()` when unused for a
/// while, so idle partitions hold no descriptors.
public final class LogSegment: @unchecked Sendable {
    public let baseOffset: Int64
    let directory: String
    let offsetIndex: OffsetIndex
    let timeIndex: TimeIndex
    let config: LogConfig

    private let publishedSize: ManagedAtomic<Int>
    /// Owns `mapping`, `_logPath`, `openFile` and `usedSinceIdleCheck`.
    private let lock = Lock()
    private var mapping: FileMapping?
    private var _logPath: String
    /// The segment's reference to its open file, nil while closed for idleness.
    private var openFile: SegmentFile?
    /// Whether the file was used since the last `releaseDescriptorIfIdle()`.
    private var usedSinceIdleCheck = true

    /// The segment's bookkeeping as derived from its files (lazy load, recovery) or handed back by its writer when
    /// it stopped being active (`becomeInactive(final:)`); and whether that load happened. Owned by `stored`'s lock.
    /// While the segment is active, the authoritative copy of its `WriterState` is the owning `PartitionLog`'s
    /// (under the log's writer lock), not this one.
    let stored: LockedState<StoredState>

    struct StoredState {
        var writer: WriterState
        var loaded = false
        /// Set when an index rebuild found bytes after the last valid batch (to be truncated by recovery).
        var hasInvalidTail = false
    }

    /// What the writer of a segment tracks between appends. A value: its one owner is whoever appends (the
    /// partition log's writer state for the active segment, the loader during recovery).
    struct WriterState: Sendable {
        var bytesSinceLastIndexEntry = 0
        /// Largest batch max timestamp in the segment (-1 when none), and the last offset of that batch.
        var maxTimestampSoFar: Int64 = -1
        var offsetOfMaxTimestampSoFar: Int64
        /// The offset after the last batch (== baseOffset when empty).
        var nextOffset: Int64
        /// Clock reading when the segment was created or opened, for `segment.ms` when batches carry no timestamp.
        var createdMs: Int64
        /// Max timestamp of the first batch (Kafka's rolling base timestamp for `segment.ms`), read lazily.
        var firstBatchTimestamp: Int64? = nil

        init(baseOffset: Int64, createdMs: Int64) {
            self.offsetOfMaxTimestampSoFar = baseOffset
            self.nextOffset = baseOffset
            self.createdMs = createdMs
        }
    }

    /// `00000000000000000042` for 42.
    public static func fileName(_ baseOffset: Int64, suffix: String) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    private init(
        directory: String, baseOffset: Int64, fd: CInt, size: Int, config: LogConfig, nowMs: Int64,
        fileSuffix: String = ""
    ) {
        self.directory = directory
        self.baseOffset = baseOffset
        self.openFile = SegmentFile(descriptor: fd)
        self.config = config
        self._logPath = directory + "/" + Self.fileName(baseOffset, suffix: ".log" + fileSuffix)
        self.offsetIndex = OffsetIndex(
            path: directory + "/" + Self.fileName(baseOffset, suffix: ".index" + fileSuffix), baseOffset: baseOffset)
        self.timeIndex = TimeIndex(
            path: directory + "/" + Self.fileName(baseOffset, suffix: ".timeindex" + fileSuffix), baseOffset: baseOffset)
        self.publishedSize = ManagedAtomic(size)
        self.stored = LockedState(StoredState(writer: WriterState(baseOffset: baseOffset, createdMs: nowMs)))
    }

    /// Creates an empty segment (and fresh, preallocated indexes) for appending. With a `fileSuffix` (the
    /// cleaner's `.cleaned`) every file name carries it until `changeFileSuffix` renames them.
    static func create(
        directory: String, baseOffset: Int64, config: LogConfig, nowMs: Int64, fileSuffix: String = ""
    ) throws -> LogSegment {
        let path = directory + "/" + fileName(baseOffset, suffix: ".log" + fileSuffix)
        let fd = try FileSystem.open(path, create: true)
        let segment = LogSegment(
            directory: directory, baseOffset: baseOffset, fd: fd, size: 0, config: config, nowMs: nowMs,
            fileSuffix: fileSuffix)
        // Only a leftover file is emptied: on ext4 truncating a file to zero marks it to have its dirty pages
        // written out when it is closed (`auto_da_alloc`), which would make deleting a segment the cleaner or
        // retention just replaced write its whole page cache to disk first.
        try segment.withDescriptor { fd in
            if try FileSystem.size(of: fd, path: path) > 0 { try FileSystem.truncate(fd, to: 0, path: path) }
        }
        try segment.offsetIndex.file.openForAppend(maxBytes: config.segmentIndexBytes, keepingEntries: 0)
        try segment.timeIndex.file.openForAppend(maxBytes: config.segmentIndexBytes, keepingEntries: 0)
        segment.stored.withLock { $0.loaded = true }
        return segment
    }

    /// Opens an existing `.log` file (`.log<fileSuffix>`) without scanning it; see `recover` and `loadState`.
    static func open(
        directory: String, baseOffset: Int64, config: LogConfig, nowMs: Int64, fileSuffix: String = ""
    ) throws -> LogSegment {
        let path = directory + "/" + fileName(baseOffset, suffix: ".log" + fileSuffix)
        let fd = try FileSystem.open(path)
        let size: Int
        do {
            size = try FileSystem.size(of: fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        return LogSegment(
            directory: directory, baseOffset: baseOffset, fd: fd, size: size, config: config, nowMs: nowMs,
            fileSuffix: fileSuffix)
    }

    public var logPath: String { lock.withLock { _logPath } }

    /// The segment's open file, reopened (by its current path) when idleness had closed it.
    func file() throws -> SegmentFile {
        try lock.withLock { try fileLocked() }
    }

    /// `file()` for a caller holding `lock`.
    private func fileLocked() throws -> SegmentFile {
        usedSinceIdleCheck = true
        if let openFile { return openFile }
        let reopened = SegmentFile(descriptor: try FileSystem.open(_logPath))
        openFile = reopened
        return reopened
    }

    /// Runs `body` with the file's descriptor, kept open for the call.
    func withDescriptor<T>(_ body: (CInt) throws -> T) throws -> T {
        let file = try file()
        return try withExtendedLifetime(file) { try body(file.descriptor) }
    }

    /// Closes the segment's reference to its descriptor when nothing used the file since the previous call;
    /// slices still being sent keep theirs, and the next use reopens it. Returns whether it was released.
    /// Called periodically by the log's maintenance, so a descriptor lives at most two periods unused.
    @discardableResult
    func releaseDescriptorIfIdle() -> Bool {
        lock.withLock {
            guard openFile != nil else { return false }
            if usedSinceIdleCheck {
                usedSinceIdleCheck = false
                return false
            }
            openFile = nil
            return true
        }
    }

    /// Whether the segment holds an open descriptor now (for tests and metrics).
    var holdsDescriptor: Bool { lock.withLock { openFile != nil } }

    /// The writer state as last stored (after loading, recovery or `becomeInactive(final:)`): current for an
    /// inactive segment, the starting point for the writer of the active one. Call `ensureLoaded` first.
    var storedWriterState: WriterState { stored.withLock { $0.writer } }

    /// Whether an index rebuild found bytes after the last valid batch.
    var hasInvalidTail: Bool { stored.withLock { $0.hasInvalidTail } }

    /// Bytes of complete batches in the segment.
    public var size: Int { publishedSize.load(ordering: .acquiring) }

    var isEmpty: Bool { size == 0 }

    /// The mapped bytes below `size` (and the mapping that keeps them valid while the caller holds it).
    func view() throws -> (mapping: FileMapping?, bytes: UnsafeRawBufferPointer) {
        let size = self.size
        let mapping = try mapping(covering: size)
        return (mapping, mapping?.bytes(count: size) ?? UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// A mapping at least `length` long, created lazily with room for the segment to grow to `segment.bytes`.
    private func mapping(covering length: Int) throws -> FileMapping? {
        try lock.withLock {
            if let mapping, mapping.length >= length { return mapping }
            guard length > 0 else { return nil }
            let page = 1 << 20
            let reserve = max(length, config.segmentBytes, (mapping?.length ?? 0) * 2)
            let rounded = (reserve + page - 1) / page * page
            let file = try fileLocked()
            let fresh = try withExtendedLifetime(file) {
                try FileMapping(fd: file.descriptor, length: rounded, writable: false, path: _logPath)
            }
            mapping = fresh
            return fresh
        }
    }

    /// Releases the read mapping (after recovery of an inactive segment); the next read maps again.
    func dropMapping() {
        lock.withLock { mapping = nil }
    }

    /// A batch appended to the segment: where it starts in the appended bytes, its size, last offset and max
    /// timestamp.
    struct AppendedBatch {
        var relativePosition: Int
        var size: Int
        var lastOffset: Int64
        var maxTimestamp: Int64
    }

    /// Writes `bytes` (whole batches, offsets already assigned) at the end with one write call, then adds index
    /// entries every `index.interval.bytes`, updates `state` and publishes the new size. On failure the file is cut
    /// back and `state` is unchanged. The caller is the segment's one writer and owns `state`.
    func append(_ bytes: UnsafeRawBufferPointer, batches: [AppendedBatch], state: inout WriterState) throws {
        let position = size
        let file = try file()
        let path = logPath
        try withExtendedLifetime(file) {
            do {
                try FileSystem.pwriteAll(file.descriptor, bytes, at: position, path: path)
            } catch {
                try? FileSystem.truncate(file.descriptor, to: position, path: path)
                throw error
            }
        }
        for batch in batches {
            noteBatch(position: position + batch.relativePosition, size: batch.size,
                      lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp, state: &state)
        }
        publishedSize.store(position + bytes.count, ordering: .releasing)
    }

    /// Index bookkeeping for one batch at `position`, as Kafka's LogSegment.append does.
    func noteBatch(position: Int, size: Int, lastOffset: Int64, maxTimestamp: Int64, state: inout WriterState) {
        if maxTimestamp > state.maxTimestampSoFar {
            state.maxTimestampSoFar = maxTimestamp
            state.offsetOfMaxTimestampSoFar = lastOffset
        }
        if state.bytesSinceLastIndexEntry > config.indexIntervalBytes {
            offsetIndex.append(offset: lastOffset, position: position)
            timeIndex.maybeAppend(timestamp: state.maxTimestampSoFar, offset: state.offsetOfMaxTimestampSoFar)
            state.bytesSinceLastIndexEntry = 0
        }
        state.bytesSinceLastIndexEntry += size
        state.nextOffset = lastOffset + 1
    }

    /// How long the segment has been open for `segment.ms`, as Kafka measures it: the incoming batches' max
    /// timestamp minus the first batch's max timestamp, or the clock time since creation when there is none.
    func timeWaitedForRoll(nowMs: Int64, incomingMaxTimestamp: Int64, state: inout WriterState) -> Int64 {
        if state.firstBatchTimestamp == nil, let (mapping, bytes) = try? view(), bytes.count >= RecordBatchHeader.size {
            state.firstBatchTimestamp = withExtendedLifetime(mapping) {
                RecordBatchSequence.header(in: bytes, at: 0)?.maxTimestamp
            }
        }
        // Timestamps come from producers: saturate rather than trap on extreme values.
        if let first = state.firstBatchTimestamp, first >= 0 {
            return incomingMaxTimestamp.saturatingSubtract(first)
        }
        return nowMs.saturatingSubtract(state.createdMs)
    }

    /// Whether one more index entry might not fit.
    var indexIsFull: Bool { offsetIndex.file.isFull || timeIndex.file.isFull }

    /// Called when the segment stops being the active one (roll, close) with its writer's `final` state, which
    /// the segment keeps from then on: final time index entry, indexes trimmed.
    func becomeInactive(final: WriterState) throws {
        stored.withLock { $0.writer = final }
        try trimIndexes(final)
    }

    /// The final time index entry for `state`, then both indexes trimmed to their entries.
    func trimIndexes(_ state: WriterState) throws {
        if state.maxTimestampSoFar >= 0 {
            timeIndex.maybeAppend(timestamp: state.maxTimestampSoFar, offset: state.offsetOfMaxTimestampSoFar)
        }
        try offsetIndex.file.trim()
        try timeIndex.file.trim()
    }

    /// Makes the segment the active one again (after a restart): indexes mapped with room to grow.
    func becomeActive() throws {
        try offsetIndex.file.openForAppend(maxBytes: config.segmentIndexBytes, keepingEntries: offsetIndex.file.count)
        try timeIndex.file.openForAppend(maxBytes: config.segmentIndexBytes, keepingEntries: timeIndex.file.count)
    }

    /// fdatasync of the log file (indexes are rebuilt by recovery, so they need none).
    func flush() throws {
        let path = logPath
        try withDescriptor { try FileSystem.sync($0, path: path) }
    }

    /// Cuts the file to `validBytes` (recovery).
    func truncate(to validBytes: Int) throws {
        let path = logPath
        try withDescriptor { try FileSystem.truncate($0, to: validBytes, path: path) }
        publishedSize.store(validBytes, ordering: .releasing)
    }

    /// Renames the log and index files from names ending in `old` to names ending in `new` (the cleaner's
    /// `.cleaned` → `.swap` → final names). Readers are unaffected (descriptors and mappings stay).
    func changeFileSuffix(from old: String, to new: String) throws {
        func renamed(_ path: String) -> String {
            (path.hasSuffix(old) ? String(path.dropLast(old.count)) : path) + new
        }
        try lock.withLock {
            let target = renamed(_logPath)
            try FileSystem.rename(_logPath, target)
            _logPath = target
        }
        try offsetIndex.file.rename(to: renamed(offsetIndex.file.path))
        try timeIndex.file.rename(to: renamed(timeIndex.file.path))
        let transactionIndex = TransactionIndex.path(directory: directory, baseOffset: baseOffset) + old
        if FileSystem.exists(transactionIndex) { try FileSystem.rename(transactionIndex, renamed(transactionIndex)) }
    }

    /// The suffix the segment's file names carry after their extension (`.cleaned`, `.swap` or none).
    var fileSuffix: String {
        let plain = directory + "/" + Self.fileName(baseOffset, suffix: ".log")
        let path = logPath
        return path.hasPrefix(plain) ? String(path.dropFirst(plain.count)) : ""
    }

    /// Writes (durably) the transaction index of a segment being built under a suffix (the cleaner's
    /// `.cleaned`), named with that suffix; nothing when `entries` is empty.
    func writeTransactionIndex(_ entries: [AbortedTransaction]) throws {
        guard !entries.isEmpty else { return }
        let path = TransactionIndex.path(directory: directory, baseOffset: baseOffset) + fileSuffix
        try FileSystem.writeAtomically(bytes: entries.flatMap(TransactionIndex.encode), to: path, directory: directory)
    }

    /// Unlinks the segment's files where they are (an abandoned `.cleaned` or `.swap` segment).
    func deleteFiles() {
        try? FileSystem.unlink(logPath)
        try? FileSystem.unlink(offsetIndex.file.path)
        try? FileSystem.unlink(timeIndex.file.path)
        let suffix = fileSuffix
        if !suffix.isEmpty { try? FileSystem.unlink(TransactionIndex.path(directory: directory, baseOffset: baseOffset) + suffix) }
    }

    /// The max timestamp of the first batch (Kafka's `getFirstBatchTimestamp`), or nil when the segment is empty.
    var firstBatchTimestamp: Int64? {
        guard let (mapping, bytes) = try? view(), bytes.count >= RecordBatchHeader.size else { return nil }
        return withExtendedLifetime(mapping) { RecordBatchSequence.header(in: bytes, at: 0)?.maxTimestamp }
    }

    /// Renames the files to `*.deleted`, then unlinks them. Mappings and the descriptors slices hold stay valid
    /// for readers.
    func delete() throws {
        let renamedLog: String = try lock.withLock {
            let renamed = _logPath + ".deleted"
            try FileSystem.rename(_logPath, renamed)
            _logPath = renamed
            return renamed
        }
        let offsetPath = offsetIndex.file.path + ".deleted"
        let timePath = timeIndex.file.path + ".deleted"
        try offsetIndex.file.rename(to: offsetPath)
        try timeIndex.file.rename(to: timePath)
        try FileSystem.unlink(renamedLog)
        try FileSystem.unlink(offsetPath)
        try FileSystem.unlink(timePath)
        try FileSystem.unlink(TransactionIndex.path(directory: directory, baseOffset: baseOffset))
    }

    /// The newest timestamp in the segment, or the file's modification time when batches carry none.
    /// For an inactive segment (its stored writer state is final).
    var largestTimestamp: Int64 {
        let maxTimestamp = storedWriterState.maxTimestampSoFar
        if maxTimestamp >= 0 { return maxTimestamp }
        return FileSystem.fileInfo(logPath)?.modifiedMs ?? 0
    }
}
