import Foundation
import LogEngine

/// `portask-verify dump`: prints the batches of `.log` files, and optionally their records, in the style of
/// Kafka's `kafka-dump-log.sh` (DumpLogSegments), or one JSON object per batch (JSON Lines). Records are
/// decoded with LogEngine (`RecordBatchHeader.decodeRecords`), decompressing gzip, snappy, lz4 and zstd.
/// `.index` and `.timeindex` files print their entries.
///
/// Text form (one line per batch, then with `--print-data-log` or `--deep-iteration` one per record):
/// ```
/// Dumping <path>
/// Log starting offset: <base offset>
/// baseOffset: 0 lastOffset: 2 count: 3 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1
///   partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty
///   position: 0 CreateTime: 1700000000002 size: 120 magic: 2 compresscodec: none crc: 123 isvalid: true
/// | offset: 0 CreateTime: 1700000000000 keySize: 3 valueSize: 5 sequence: -1 headerKeys: [h] key: k-0
///   payload: hello headers: [h=1]
/// ```
/// (each batch and record on one line). Keys, values and header values print as text when they are UTF-8
/// (control characters escaped), otherwise as `0x` and hex; null as `null`.
///
/// Thread-safety: a value type; `dump` writes to the stream it is given.
public struct Dumper: Sendable {
    public enum Detail: Sendable {
        /// Batch headers only.
        case batches
        /// Records without keys and values (`--deep-iteration`).
        case records
        /// Records with keys, values and headers (`--print-data-log`).
        case data
    }

    public var detail: Detail
    public var json: Bool

    public init(detail: Detail = .batches, json: Bool = false) {
        self.detail = detail
        self.json = json
    }

    /// Dumps `paths`: `.log`, `.index`, `.timeindex` files or partition directories (all their `.log` files).
    /// Throws `VerifyError` for usage and I/O errors; damaged data is printed as found and stops a file's dump
    /// where its structure ends.
    public func dump(_ paths: [String], to output: inout some TextOutputStream) throws {
        guard !paths.isEmpty else { throw VerifyError(.usage, "no path given") }
        var files: [String] = []
        for path in paths {
            switch try Verifier.classify(path) {
            case .partitionDirectory(let directory):
                files += PartitionCheck.segmentBaseOffsets(in: try Directory.list(directory))
                    .map { directory + "/" + LogSegment.fileName($0, suffix: ".log") }
            case .dataDirectory:
                throw VerifyError(.usage, "dump takes segment files or partition directories", context: path)
            case .logFile(let file), .offsetIndexFile(let file), .timeIndexFile(let file):
                files.append(file)
            }
        }
        for file in files {
            if file.hasSuffix(".log") {
                try dumpLog(file, to: &output)
            } else {
                try dumpIndex(file, to: &output)
            }
        }
    }

    private func dumpLog(_ path: String, to output: inout some TextOutputStream) throws {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        if !json {
            output.write("Dumping \(path)\n")
            output.write("Log starting offset: \(Verifier.baseOffset(ofSegmentFile: path) ?? 0)\n")
        }
        func invalidTail(at position: Int) -> String {
            let invalid = bytes.count - position
            return json
                ? Self.jsonLine(InvalidTail(file: path, position: position, invalidBytes: invalid))
                : "Found \(invalid) invalid bytes at the end of \(path)\n"
        }
        // Batches are yielded only when their length delimits them (so never from a zero-filled tail).
        var walk = RecordBatchSequence(bytes).makeIterator()
        while let batch = walk.next() {
            let (position, header) = (batch.position, batch.header)
            guard header.magic == RecordBatchHeader.currentMagic, header.hasStorableBaseOffset else {
                output.write(invalidTail(at: position))
                return
            }
            let isValid = (try? header.validate(in: bytes, at: position)) != nil
                || SegmentCheck.isKafkaEmptyBatch(header, in: bytes, at: position)
            var records: [DecodedRecord]? = nil
            var recordError: String? = nil
            if detail != .batches {
                do {
                    records = try header.decodeRecords(in: bytes, at: position)
                } catch {
                    recordError = (error as? LogEngineError)?.message ?? "\(error)"
                }
            }
            if json {
                output.write(Self.jsonLine(BatchJSON(
                    file: path, position: position, header: header, isValid: isValid, records: records,
                    withData: detail == .data, recordError: recordError)))
            } else {
                output.write(Self.batchLine(header, position: position, isValid: isValid) + "\n")
                for record in records ?? [] {
                    output.write(Self.recordLine(record, batch: header, withData: detail == .data) + "\n")
                }
                if let recordError { output.write("| records do not decode: \(recordError)\n") }
            }
        }
        if let stop = walk.stop { output.write(invalidTail(at: stop.position)) }
    }

    private func dumpIndex(_ path: String, to output: inout some TextOutputStream) throws {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        let base = Verifier.baseOffset(ofSegmentFile: path) ?? 0
        let isTime = path.hasSuffix(".timeindex")
        let entrySize = isTime ? 12 : 8
        if !json { output.write("Dumping \(path)\n") }
        for slot in 0..<(bytes.count / entrySize) {
            let at = slot * entrySize
            if isTime {
                let timestamp = bytes.int64(at: at)
                let offset = base + Int64(bytes.int32(at: at + 8))
                output.write(json ? Self.jsonLine(TimeEntryJSON(file: path, timestamp: timestamp, offset: offset))
                                  : "timestamp: \(timestamp) offset: \(offset)\n")
            } else {
                let offset = base + Int64(bytes.int32(at: at))
                let position = bytes.int32(at: at + 4)
                output.write(json ? Self.jsonLine(OffsetEntryJSON(file: path, offset: offset, position: position))
                                  : "offset: \(offset) position: \(position)\n")
            }
        }
        if bytes.count % entrySize != 0 && !json {
            output.write("Found \(bytes.count % entrySize) bytes after the last whole entry of \(path)\n")
        }
    }

    static func jsonLine(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
