/// A 128-bit hash of a record key (MurmurHash3 x64/128, seed 0): what the cleaner's `OffsetMap` stores instead of
/// the key, as Kafka's map stores a 16-byte MD5 digest. Two keys collide with negligible probability, so a key
/// whose hash is in the map is taken to be that key.
///
/// Thread-safety: a value type.
public struct KeyHash: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The hash of `key`.
    public init(_ key: UnsafeRawBufferPointer) {
        let c1: UInt64 = 0x87c3_7b91_1142_53d5
        let c2: UInt64 = 0x4cf5_ad43_2745_937f
        var h1: UInt64 = 0
        var h2: UInt64 = 0
        let count = key.count
        let blocks = count / 16
        for block in 0..<blocks {
            var k1 = Self.load(key, block * 16)
            var k2 = Self.load(key, block * 16 + 8)
            k1 &*= c1; k1 = Self.rotate(k1, 31); k1 &*= c2; h1 ^= k1
            h1 = Self.rotate(h1, 27); h1 &+= h2; h1 = h1 &* 5 &+ 0x52dc_e729
            k2 &*= c2; k2 = Self.rotate(k2, 33); k2 &*= c1; h2 ^= k2
            h2 = Self.rotate(h2, 31); h2 &+= h1; h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blocks * 16
        var k1: UInt64 = 0
        var k2: UInt64 = 0
        let rest = count - tail
        if rest > 8 {
            for index in stride(from: rest - 1, through: 8, by: -1) {
                k2 ^= UInt64(key[tail + index]) << UInt64((index - 8) * 8)
            }
            k2 &*= c2; k2 = Self.rotate(k2, 33); k2 &*= c1; h2 ^= k2
        }
        if rest > 0 {
            for index in stride(from: min(rest, 8) - 1, through: 0, by: -1) {
                k1 ^= UInt64(key[tail + index]) << UInt64(index * 8)
            }
            k1 &*= c1; k1 = Self.rotate(k1, 31); k1 &*= c2; h1 ^= k1
        }
        h1 ^= UInt64(count)
        h2 ^= UInt64(count)
        h1 &+= h2
        h2 &+= h1
        h1 = Self.mix(h1)
        h2 = Self.mix(h2)
        h1 &+= h2
        h2 &+= h1
        high = h1
        low = h2
    }

    /// The hash of `key` (tests, tools).
    public init(_ key: [UInt8]) {
        self = key.withUnsafeBytes { KeyHash($0) }
    }

    private static func load(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[at + index]) << UInt64(index * 8) }
        return value
    }

    private static func rotate(_ value: UInt64, _ by: UInt64) -> UInt64 { (value << by) | (value >> (64 - by)) }

    private static func mix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
