#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cleaner's key → latest offset map in bounded memory (Kafka's `SkimpyOffsetMap`): open addressing over slots
/// of 24 bytes (the key's 128-bit `KeyHash` and the offset), linear probing, the first slot picked from the hash's
/// high word by a multiply-shift (no division). `put` is refused once the map holds `maxEntries` (the slot bound
/// times the load factor, `log.cleaner.io.buffer.load.factor` in Kafka, 0.9), which tells the cleaner to end the
/// round at the last offset it mapped.
///
/// Unlike Kafka's map, the table starts small (`initialSlots`) and doubles whenever it is half full (`growthLoad`),
/// up to `maxSlots` (the memory bound, filled up to the load factor): a round over many updates of few keys then
/// probes a table that stays in the processor's caches instead of one sized for every record. The memory is
/// allocated zeroed (untouched pages cost nothing) and released by `deinit`.
///
/// Thread-safety: not thread-safe; one cleaner owns its map.
public final class OffsetMap {
    /// Bytes per slot: two 64-bit hash words and the offset.
    public static let slotSize = 24
    /// Slots the table starts with (at most `maxSlots`).
    public static let defaultInitialSlots = 1 << 14
    /// Slots the table may grow to: its memory bound.
    public let maxSlots: Int
    /// Slots the table has now.
    public private(set) var slots: Int
    /// Entries accepted before `put` refuses (once the table has `maxSlots`).
    public let maxEntries: Int
    /// Entries accepted now: `maxEntries`, or the current table's bound when it could not grow.
    private var entryLimit: Int
    /// Number of distinct keys stored.
    public private(set) var size = 0
    /// The last offset put in the map or passed to `updateLatestOffset` (-1 when empty).
    public private(set) var latestOffset: Int64 = -1
    /// Probes beyond the first slot since the last `clear` (collisions of hash positions).
    public private(set) var collisions = 0
    private let loadFactor: Double
    /// Entries at which the table doubles (`maxEntries` once it has `maxSlots`).
    private var growthThreshold: Int
    private var storage: UnsafeMutablePointer<UInt64>

    /// A map of at most `memoryBytes` bytes (at least two slots), filled up to `loadFactor` of its slots, starting
    /// with `initialSlots`. Throws `io` when the memory cannot be allocated (the round fails and the log is
    /// retried later).
    public init(memoryBytes: Int, loadFactor: Double = 0.9, initialSlots: Int = OffsetMap.defaultInitialSlots) throws {
        maxSlots = max(memoryBytes / Self.slotSize, 2)
        self.loadFactor = min(max(loadFactor, 0.01), 1)
        maxEntries = Self.entryBound(slots: maxSlots, loadFactor: self.loadFactor)
        entryLimit = maxEntries
        slots = min(max(initialSlots, 2), maxSlots)
        storage = try Self.allocate(slots: slots)
        growthThreshold = Self.growthThreshold(
            slots: slots, maxSlots: maxSlots, maxEntries: maxEntries, loadFactor: self.loadFactor)
    }

    /// Load at which a table that can still grow doubles: linear probing's probe counts climb steeply past it
    /// (an unsuccessful lookup at load 0.9 probes about 50 slots, at 0.5 about 2.5). The largest table fills to
    /// the configured load factor.
    static let growthLoad = 0.5

    private static func growthThreshold(slots: Int, maxSlots: Int, maxEntries: Int, loadFactor: Double) -> Int {
        slots == maxSlots ? maxEntries : entryBound(slots: slots, loadFactor: min(loadFactor, growthLoad))
    }

    deinit { free(storage) }

    /// Entries a table of `slots` slots takes at `loadFactor`.
    static func entryBound(slots: Int, loadFactor: Double) -> Int {
        max(1, min(slots - 1, Int(Double(slots) * loadFactor)))
    }

    private static func allocate(slots: Int) throws -> UnsafeMutablePointer<UInt64> {
        guard let raw = calloc(slots, slotSize) else {
            throw LogEngineError(.io, "cannot allocate the cleaner's offset map of \(slots) slots")
        }
        return raw.bindMemory(to: UInt64.self, capacity: slots * 3)
    }

    /// Memory the table occupies now (bytes).
    public var memoryBytes: Int { slots * Self.slotSize }

    /// Share of the slots in use.
    public var utilization: Double { Double(size) / Double(slots) }

    /// Whether another new key would be refused.
    public var isFull: Bool { size >= entryLimit }

    /// Empties the map (keeping its current table).
    public func clear() {
        memset(storage, 0, slots * Self.slotSize)
        size = 0
        latestOffset = -1
        collisions = 0
    }

    /// The first slot probed for `high` in a table of `count` slots.
    @inline(__always)
    private static func firstSlot(_ high: UInt64, _ count: Int) -> Int {
        Int(truncatingIfNeeded: high.multipliedFullWidth(by: UInt64(count)).high)
    }

    /// Records `offset` as the latest offset of the key with `hash`. Returns false (and stores nothing) when the
    /// key is new and the map is full.
    @discardableResult
    public func put(_ hash: KeyHash, offset: Int64) -> Bool {
        let (base, found) = locate(hash)
        if found {
            storage[base + 2] = UInt64(bitPattern: offset) &+ 1
        } else if !insert(hash, offset: offset, at: base) {
            return false
        }
        latestOffset = offset
        return true
    }

    /// The slot (its first word) holding the key with `hash`, or the empty slot where it would go.
    @inline(__always)
    private func locate(_ hash: KeyHash) -> (base: Int, found: Bool) {
        let slots = self.slots
        let storage = self.storage
        var slot = Self.firstSlot(hash.high, slots)
        while true {
            let base = slot * 3
            if storage[base + 2] == 0 { return (base, false) }
            if storage[base] == hash.high && storage[base + 1] == hash.low { return (base, true) }
            collisions += 1
            slot = slot + 1 == slots ? 0 : slot + 1
        }
    }

    /// Stores a new key in the empty slot `base` that `locate` found (growing the table first when it is due,
    /// which moves the slot); false when the map is full.
    @inline(__always)
    private func insert(_ hash: KeyHash, offset: Int64, at base: Int) -> Bool {
        var base = base
        if size >= growthThreshold, grow() { base = locate(hash).base }
        guard size < entryLimit else { return false }
        storage[base] = hash.high
        storage[base + 1] = hash.low
        storage[base + 2] = UInt64(bitPattern: offset) &+ 1
        size += 1
        return true
    }

    /// What `putNewestFirst` did.
    public enum NewestFirstPut: Equatable {
        /// The key was new: `offset` is now its latest.
        case inserted
        /// The key's latest was `replaced`, an earlier offset of the same batch: `offset` is now its latest.
        case replaced(Int64)
        /// The key already has a later offset (of a later batch): nothing changed.
        case laterKept
        /// The key is new and the map is full: nothing stored.
        case full
    }

    /// The put of a walk that visits batches newest first and the records of each batch in order: a stored offset
    /// after `batchLastOffset` belongs to a later batch and wins; a stored offset at or before it is an earlier
    /// record of the same batch and is replaced. Leaves `latestOffset` alone (the walk sets it).
    public func putNewestFirst(_ hash: KeyHash, offset: Int64, batchLastOffset: Int64) -> NewestFirstPut {
        let (base, found) = locate(hash)
        guard found else { return insert(hash, offset: offset, at: base) ? .inserted : .full }
        let previous = Int64(bitPattern: storage[base + 2] &- 1)
        if previous > batchLastOffset { return .laterKept }
        storage[base + 2] = UInt64(bitPattern: offset) &+ 1
        return .replaced(previous)
    }

    /// Doubles the table (at most to `maxSlots`) and re-inserts every entry; false when it cannot grow (already
    /// at its bound, or the memory is not available: the map is then full at its current table's bound).
    private func grow() -> Bool {
        let newSlots = min(slots &* 2, maxSlots)
        guard newSlots > slots, let newStorage = try? Self.allocate(slots: newSlots) else {
            entryLimit = min(entryLimit, growthThreshold)
            growthThreshold = Int.max
            return false
        }
        for old in 0..<slots where storage[old * 3 + 2] != 0 {
            var slot = Self.firstSlot(storage[old * 3], newSlots)
            while newStorage[slot * 3 + 2] != 0 { slot = slot + 1 == newSlots ? 0 : slot + 1 }
            newStorage[slot * 3] = storage[old * 3]
            newStorage[slot * 3 + 1] = storage[old * 3 + 1]
            newStorage[slot * 3 + 2] = storage[old * 3 + 2]
        }
        free(storage)
        storage = newStorage
        slots = newSlots
        growthThreshold = Self.growthThreshold(
            slots: slots, maxSlots: maxSlots, maxEntries: maxEntries, loadFactor: loadFactor)
        return true
    }

    /// The latest offset stored for the key with `hash`, or -1.
    public func get(_ hash: KeyHash) -> Int64 {
        let (base, found) = locate(hash)
        return found ? Int64(bitPattern: storage[base + 2] &- 1) : -1
    }

    /// Puts every entry of `later` (a map of later offsets than this one's) into this map; false when this map
    /// filled before all were put. `latestOffset` becomes the later of the two. `superseded` is called with each
    /// offset of this map whose key `later` also holds (it is no longer its key's latest).
    @discardableResult
    public func merge(_ later: OffsetMap, superseded: (Int64) -> Void = { _ in }) -> Bool {
        var complete = true
        // Visited in a scattered order: in slot order the keys would come sorted by their first slot here too,
        // and linear probing degrades to quadratic time when sorted new keys pile up at the end of one cluster.
        let count = later.slots
        var stride = Self.scatterStride % count
        while Self.greatestCommonDivisor(stride, count) != 1 { stride += 1 }
        var slot = 0
        for _ in 0..<count {
            slot = slot &+ stride
            if slot >= count { slot -= count }
            guard later.storage[slot * 3 + 2] != 0 else { continue }
            let hash = KeyHash(high: later.storage[slot * 3], low: later.storage[slot * 3 + 1])
            let previous = get(hash)
            if !put(hash, offset: Int64(bitPattern: later.storage[slot * 3 + 2] &- 1)) { complete = false }
            if previous >= 0 { superseded(previous) }
        }
        updateLatestOffset(later.latestOffset)
        return complete
    }

    /// A prime step that scatters a walk over the slots (made coprime with the slot count before use).
    private static let scatterStride = 1_000_003

    private static func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// Moves `latestOffset` forward to `offset` (batches without keys, offset gaps at the end of a segment).
    public func updateLatestOffset(_ offset: Int64) {
        latestOffset = max(latestOffset, offset)
    }
}
