/// Producer state snapshot files: `<offset>.snapshot` in the partition directory (offset as 20 zero-padded
/// digits), holding the producer state of every batch below `offset`. The layout is Kafka's producer snapshot
/// version 1 (big-endian):
/// ```
/// offset size field
///      0    2 version = 1
///      2    4 crc                CRC-32C of bytes 6 ..< end
///      6    4 entry count
///     10   46 entry: producerId int64, epoch int16, lastSequence int32, lastOffset int64,
///                    offsetDelta int32 (lastOffset - firstOffset of the batch), timestamp int64,
///                    coordinatorEpoch int32, currentTxnFirstOffset int64
/// ```
/// Kafka writes one entry per producer (its last batch). Portask writes one entry per retained batch, oldest
/// first, so duplicates of any of a producer's last five batches are still recognised after a restart; Kafka
/// reading such a file keeps the last entry of each producer, which is exactly the entry it would have written.
/// An entry with lastOffset -1 describes a producer without a retained batch.
///
/// Thread-safety: stateless; the owning `PartitionLog` serialises writes of one directory.
public enum ProducerStateSnapshot {
    public static let suffix = ".snapshot"
    static let version: Int16 = 1
    static let headerSize = 10
    static let entrySize = 46

    /// `<directory>/<offset>.snapshot`.
    public static func path(directory: String, offset: Int64) -> String {
        directory + "/" + LogSegment.fileName(offset, suffix: suffix)
    }

    /// The offsets of the snapshot files in `directory`, ascending.
    public static func offsets(in directory: String) throws -> [Int64] {
        try FileSystem.list(directory).compactMap { name -> Int64? in
            guard name.hasSuffix(suffix), name.count == 20 + suffix.count else { return nil }
            return Int64(name.prefix(20))
        }.sorted()
    }

    /// The file contents for `state`.
    public static func encode(_ state: ProducerStateManager) -> [UInt8] {
        var rows: [(ProducerStateEntry, ProducerStateEntry.Batch?)] = []
        for entry in state.producers.values.sorted(by: { $0.producerId < $1.producerId }) {
            if entry.batches.isEmpty {
                rows.append((entry, nil))
            } else {
                for batch in entry.batches { rows.append((entry, batch)) }
            }
        }
        var bytes = [UInt8](repeating: 0, count: headerSize + rows.count * entrySize)
        bytes.withUnsafeMutableBytes { buffer in
            buffer.storeInt16BE(version, at: 0)
            buffer.storeInt32BE(Int32(truncatingIfNeeded: rows.count), at: 6)
            var position = headerSize
            for (entry, batch) in rows {
                buffer.storeInt64BE(entry.producerId, at: position)
                buffer.storeInt16BE(entry.producerEpoch, at: position + 8)
                buffer.storeInt32BE(batch?.lastSequence ?? -1, at: position + 10)
                buffer.storeInt64BE(batch?.lastOffset ?? -1, at: position + 14)
                buffer.storeInt32BE(batch?.offsetDelta ?? 0, at: position + 22)
                buffer.storeInt64BE(batch?.timestamp ?? entry.lastTimestamp, at: position + 26)
                buffer.storeInt32BE(entry.coordinatorEpoch, at: position + 34)
                buffer.storeInt64BE(entry.currentTxnFirstOffset, at: position + 38)
                position += entrySize
            }
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[6...]))
            buffer.storeUInt32BE(crc, at: 2)
        }
        return bytes
    }

    /// Parses snapshot file contents. Throws `corruptIndex` for a wrong version, size or CRC.
    public static func decode(_ bytes: [UInt8], path: String = "") throws -> ProducerStateManager {
        try bytes.withUnsafeBytes { buffer in
            guard buffer.count >= headerSize, buffer.int16BE(at: 0) == version else {
                throw LogEngineError(.corruptIndex, "not a producer snapshot of version \(version)", context: path)
            }
            let count = Int(buffer.int32BE(at: 6))
            guard count >= 0, buffer.count == headerSize + count * entrySize else {
                throw LogEngineError(.corruptIndex, "producer snapshot size does not match its entry count", context: path)
            }
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[6...]))
            guard crc == buffer.uint32BE(at: 2) else {
                throw LogEngineError(.corruptIndex, "producer snapshot CRC mismatch", context: path)
            }
            var producers: [Int64: ProducerStateEntry] = [:]
            for index in 0..<count {
                let position = headerSize + index * entrySize
                let producerId = buffer.int64BE(at: position)
                let epoch = buffer.int16BE(at: position + 8)
                let lastSequence = buffer.int32BE(at: position + 10)
                let lastOffset = buffer.int64BE(at: position + 14)
                let offsetDelta = buffer.int32BE(at: position + 22)
                let timestamp = buffer.int64BE(at: position + 26)
                guard producerId >= 0, offsetDelta >= 0 else {
                    throw LogEngineError(.corruptIndex, "invalid producer snapshot entry \(index)", context: path)
                }
                var entry = producers[producerId] ?? ProducerStateEntry(producerId: producerId, producerEpoch: epoch)
                entry.coordinatorEpoch = buffer.int32BE(at: position + 34)
                entry.currentTxnFirstOffset = buffer.int64BE(at: position + 38)
                if lastOffset >= 0 {
                    entry.add(epoch: epoch, batch: .init(
                        firstSequence: ProducerStateEntry.decrementSequence(lastSequence, by: offsetDelta),
                        lastSequence: lastSequence, firstOffset: lastOffset - Int64(offsetDelta),
                        lastOffset: lastOffset, timestamp: timestamp))
                } else {
                    entry.producerEpoch = epoch
                    entry.batches = []
                    entry.lastTimestamp = timestamp
                }
                producers[producerId] = entry
            }
            return ProducerStateManager(producers: producers)
        }
    }
}
