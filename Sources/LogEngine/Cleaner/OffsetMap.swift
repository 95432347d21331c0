#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cleaner's key → latest offset map in fixed memory (Kafka's `SkimpyOffsetMap`): open addressing over slots
/// of 24 bytes (the key's 128-bit `KeyHash` and the offset), linear probing. The table never grows: `put` is
/// refused once the map holds `maxEntries` (the slots times the load factor, `log.cleaner.io.buffer.load.factor`
/// in Kafka, 0.9), which tells the cleaner to end the round at the last offset it mapped.
///
/// The memory is allocated zeroed on demand (untouched pages cost nothing) and released by `deinit`.
///
/// Thread-safety: not thread-safe; one cleaner owns its map.
public final class OffsetMap {
    /// Bytes per slot: two 64-bit hash words and the offset.
    public static let slotSize = 24
    /// Number of slots.
    public let slots: Int
    /// Entries accepted before `put` refuses.
    public let maxEntries: Int
    /// Number of distinct keys stored.
    public private(set) var size = 0
    /// The last offset put in the map or passed to `updateLatestOffset` (-1 when empty).
    public private(set) var latestOffset: Int64 = -1
    /// Probes beyond the first slot since the last `clear` (collisions of hash positions).
    public private(set) var collisions = 0
    private let storage: UnsafeMutablePointer<UInt64>

    /// A map of `memoryBytes` bytes (at least one slot), filled up to `loadFactor` of its slots.
    /// Throws `io` when the memory cannot be allocated (the round fails and the log is retried later).
    public init(memoryBytes: Int, loadFactor: Double = 0.9) throws {
        slots = max(memoryBytes / Self.slotSize, 2)
        maxEntries = max(1, min(slots - 1, Int(Double(slots) * min(max(loadFactor, 0.01), 1))))
        guard let raw = calloc(slots, Self.slotSize) else {
            throw LogEngineError(.io, "cannot allocate the cleaner's offset map of \(slots) slots")
        }
        storage = raw.bindMemory(to: UInt64.self, capacity: slots * 3)
    }

    deinit { free(storage) }

    /// Memory the table occupies (bytes).
    public var memoryBytes: Int { slots * Self.slotSize }

    /// Share of the slots in use.
    public var utilization: Double { Double(size) / Double(slots) }

    /// Whether another new key would be refused.
    public var isFull: Bool { size >= maxEntries }

    /// Empties the map.
    public func clear() {
        memset(storage, 0, slots * Self.slotSize)
        size = 0
        latestOffset = -1
        collisions = 0
    }

    /// Records `offset` as the latest offset of the key with `hash`. Returns false (and stores nothing) when the
    /// key is new and the map is full.
    @discardableResult
    public func put(_ hash: KeyHash, offset: Int64) -> Bool {
        var slot = Int(truncatingIfNeeded: hash.high % UInt64(slots))
        while true {
            let base = slot * 3
            let stored = storage[base + 2]
            if stored == 0 {
                guard size < maxEntries else { return false }
                storage[base] = hash.high
                storage[base + 1] = hash.low
                storage[base + 2] = UInt64(bitPattern: offset) &+ 1
                size += 1
                break
            }
            if storage[base] == hash.high && storage[base + 1] == hash.low {
                storage[base + 2] = UInt64(bitPattern: offset) &+ 1
                break
            }
            collisions += 1
            slot = slot + 1 == slots ? 0 : slot + 1
        }
        latestOffset = offset
        return true
    }

    /// The latest offset stored for the key with `hash`, or -1.
    public func get(_ hash: KeyHash) -> Int64 {
        var slot = Int(truncatingIfNeeded: hash.high % UInt64(slots))
        while true {
            let base = slot * 3
            let stored = storage[base + 2]
            if stored == 0 { return -1 }
            if storage[base] == hash.high && storage[base + 1] == hash.low {
                return Int64(bitPattern: stored &- 1)
            }
            slot = slot + 1 == slots ? 0 : slot + 1
        }
    }

    /// Moves `latestOffset` forward to `offset` (batches without keys, offset gaps at the end of a segment).
    public func updateLatestOffset(_ offset: Int64) {
        latestOffset = max(latestOffset, offset)
    }
}
