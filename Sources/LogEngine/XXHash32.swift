/// XXH32 (https://github.com/Cyan4973/xxHash), used to check and repair LZ4 frame header checksums.
///
/// Thread-safety: stateless.
enum XXHash32 {
    private static let prime1: UInt32 = 2_654_435_761
    private static let prime2: UInt32 = 2_246_822_519
    private static let prime3: UInt32 = 3_266_489_917
    private static let prime4: UInt32 = 668_265_263
    private static let prime5: UInt32 = 374_761_393

    static func hash(_ input: UnsafeRawBufferPointer, seed: UInt32) -> UInt32 {
        var position = 0
        var hash: UInt32
        if input.count >= 16 {
            var v1 = seed &+ prime1 &+ prime2
            var v2 = seed &+ prime2
            var v3 = seed
            var v4 = seed &- prime1
            while position + 16 <= input.count {
                v1 = round(v1, input.uint32LE(at: position))
                v2 = round(v2, input.uint32LE(at: position + 4))
                v3 = round(v3, input.uint32LE(at: position + 8))
                v4 = round(v4, input.uint32LE(at: position + 12))
                position += 16
            }
            hash = rotate(v1, 1) &+ rotate(v2, 7) &+ rotate(v3, 12) &+ rotate(v4, 18)
        } else {
            hash = seed &+ prime5
        }
        hash = hash &+ UInt32(truncatingIfNeeded: input.count)
        while position + 4 <= input.count {
            hash = rotate(hash &+ input.uint32LE(at: position) &* prime3, 17) &* prime4
            position += 4
        }
        while position < input.count {
            hash = rotate(hash &+ UInt32(input[position]) &* prime5, 11) &* prime1
            position += 1
        }
        hash ^= hash >> 15
        hash = hash &* prime2
        hash ^= hash >> 13
        hash = hash &* prime3
        hash ^= hash >> 16
        return hash
    }

    private static func round(_ accumulator: UInt32, _ lane: UInt32) -> UInt32 {
        rotate(accumulator &+ lane &* prime2, 13) &* prime1
    }

    private static func rotate(_ value: UInt32, _ bits: UInt32) -> UInt32 {
        (value << bits) | (value >> (32 - bits))
    }
}
