

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Storage shared by `OffsetIndex` and `TimeIndex`: fixed-size entries in a memory-mapped file.
///
/// The file of the active segment is preallocated (sparse) to `segment.index.bytes` and trimmed to its entries
/// on roll and close. Indexes of older segments are mapped lazily, on their first lookup, and keep no file
/// descriptor open (the mapping outlives the descriptor), so idle partitions cost no handles.
///
/// Thread-safety: one writer (serialised by the owning partition) and any number of readers. An entry is
/// written into the mapping before the entry count that makes it visible is published under the lock.
final class IndexFile: @unchecked Sendable {
    let entrySize: Int
    private let lock = Lock()
    private var _path: String
    private var mapping: FileMapping?
    private var entryCount = 0
    private var capacity = 0
    private var loaded = false

    init(path: String, entrySize: Int) {
        self._path = path
        self.entrySize = entrySize
    }

    var path: String { lock.withLock { _path } }

    /// Number of entries (loads the file if needed; 0 when it cannot be loaded).
    var count: Int { (try? snapshot().count) ?? 0 }

    var isFull: Bool { lock.withLock { loaded && entryCount >= capacity } }

    /// Maps the file for appending, preallocated to `maxBytes`, keeping its first `keepingEntries` entries
    /// (or, when nil, as many whole entries as the file holds).
    func openForAppend(maxBytes: Int, keepingEntries: Int?) throws {
        try lock.withLock {
            let fd = try FileSystem.open(_path, create: true)
            defer { close(fd) }
            let existing = try FileSystem.size(of: fd, path: _path) / entrySize
            let keep = min(keepingEntries ?? existing, existing)
            let maxEntries = max(maxBytes / entrySize, keep, 1)
            try FileSystem.truncate(fd, to: maxEntries * entrySize, path: _path)
            mapping = try FileMapping(
                fd: fd, length: maxEntries * entrySize, writable: true, randomAccess: true, path: _path)
            entryCount = keep
            capacity = maxEntries
            loaded = true
        }
    }

    /// The mapping and the number of published entries; maps the file on first use.
    /// Throws `corruptIndex` when the file size is not a multiple of the entry size, `io` when it is missing.
    func snapshot() throws -> (mapping: FileMapping?, count: Int) {
        try lock.withLock {
            if !loaded {
                let fd = try FileSystem.open(_path)
                defer { close(fd) }
                let size = try FileSystem.size(of: fd, path: _path)
                if size % entrySize != 0 {
                    throw LogEngineError(.corruptIndex, "size \(size) is not a multiple of \(entrySize)", context: _path)
                }
                mapping = try FileMapping(fd: fd, length: size, writable: true, randomAccess: true, path: _path)
                entryCount = size / entrySize
                capacity = entryCount
                loaded = true
            }
            return (mapping, entryCount)
        }
    }

    /// Writes one entry through `write` (given the entry's bytes) and publishes it. Returns false when full.
    func append(_ write: (UnsafeMutableRawBufferPointer) -> Void) -> Bool {
        let target: UnsafeMutableRawBufferPointer? = lock.withLock { () -> UnsafeMutableRawBufferPointer? in
            guard loaded, entryCount < capacity, let mapping else { return nil }
            return UnsafeMutableRawBufferPointer(rebasing: mapping.mutableBytes[(entryCount * entrySize)...].prefix(entrySize))
        }
        guard let target else { return false }
        write(target)
        lock.withLock { entryCount += 1 }
        return true
    }

    /// Drops entries from `index` on.
    func truncate(toEntries index: Int) {
        lock.withLock { entryCount = min(entryCount, max(index, 0)) }
    }

    /// Shrinks the file to its entries (on roll and close); later appends are refused.
    func trim() throws {
        try lock.withLock {
            guard loaded else { return }
            try FileSystem.truncate(path: _path, to: entryCount * entrySize)
            capacity = entryCount
        }
    }

    /// Forgets the mapping; the next lookup maps the file again.
    func unload() {
        lock.withLock {
            mapping = nil
            loaded = false
            entryCount = 0
            capacity = 0
        }
    }

    func rename(to newPath: String) throws {
        try lock.withLock {
            if FileSystem.exists(_path) { try FileSystem.rename(_path, newPath) }
            _path = newPath
        }
    }

    func delete() throws {
        try lock.withLock { try FileSystem.unlink(_path) }
    }

    /// Index of the last entry whose key is at most `target` (keys non-decreasing), or nil.
    static func floorSlot(count: Int, target: Int64, key: (Int) -> Int64) -> Int? {
        var low = 0
        var high = count - 1
        var found: Int? = nil
        while low <= high {
            let middle = (low + high) / 2
            if key(middle) <= target {
                found = middle
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return found
    }
}
