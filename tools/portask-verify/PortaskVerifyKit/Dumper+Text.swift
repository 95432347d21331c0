import LogEngine

extension Dumper {
    static func codecName(_ header: RecordBatchHeader) -> String {
        (try? CompressionCodec(attributes: Int(header.attributes)))?.description ?? "unknown(\(header.compressionCodec))"
    }

    static func timestampType(_ header: RecordBatchHeader) -> String {
        header.isLogAppendTime ? "LogAppendTime" : "CreateTime"
    }

    static func lastSequence(_ header: RecordBatchHeader) -> Int32 {
        guard header.baseSequence >= 0 else { return -1 }
        // Sequences wrap at Int32.max as in Kafka's DefaultRecordBatch.incrementSequence.
        let sum = Int64(header.baseSequence) + Int64(header.lastOffsetDelta)
        return Int32(sum > Int64(Int32.max) ? sum - Int64(Int32.max) - 1 : sum)
    }

    static func sequence(of record: DecodedRecord, in header: RecordBatchHeader) -> Int32 {
        guard header.baseSequence >= 0 else { return -1 }
        let sum = Int64(header.baseSequence) &+ (record.offset &- header.baseOffset)
        return Int32(truncatingIfNeeded: sum > Int64(Int32.max) ? sum - Int64(Int32.max) - 1 : sum)
    }

    /// Bit 6 of the attributes: the base timestamp is a delete horizon (compaction of tombstones).
    static func deleteHorizon(_ header: RecordBatchHeader) -> String {
        header.attributes & 0x40 != 0 ? "OptionalLong[\(header.baseTimestamp)]" : "OptionalLong.empty"
    }

    static func batchLine(_ header: RecordBatchHeader, position: Int, isValid: Bool) -> String {
        "baseOffset: \(header.baseOffset) lastOffset: \(header.lastOffset) count: \(header.recordCount) "
            + "baseSequence: \(header.baseSequence) lastSequence: \(lastSequence(header)) "
            + "producerId: \(header.producerId) producerEpoch: \(header.producerEpoch) "
            + "partitionLeaderEpoch: \(header.partitionLeaderEpoch) isTransactional: \(header.isTransactional) "
            + "isControl: \(header.isControl) deleteHorizonMs: \(deleteHorizon(header)) position: \(position) "
            + "\(timestampType(header)): \(header.maxTimestamp) size: \(header.totalSize) magic: \(header.magic) "
            + "compresscodec: \(codecName(header)) crc: \(header.crc) isvalid: \(isValid)"
    }

    static func recordLine(_ record: DecodedRecord, batch: RecordBatchHeader, withData: Bool) -> String {
        var line = "| offset: \(record.offset) \(timestampType(batch)): \(record.timestamp) "
            + "keySize: \(record.key.map { $0.count } ?? -1) valueSize: \(record.value.map { $0.count } ?? -1) "
            + "sequence: \(sequence(of: record, in: batch)) "
            + "headerKeys: [\(record.headers.map { render($0.key) }.joined(separator: ","))]"
        if batch.isControl, let marker = controlMarker(record) {
            line += " " + marker
        } else if withData {
            line += " key: \(render(record.key)) payload: \(render(record.value))"
            if !record.headers.isEmpty {
                line += " headers: [" + record.headers.map { "\(render($0.key))=\(render($0.value))" }
                    .joined(separator: ", ") + "]"
            }
        }
        return line
    }

    /// A transaction marker's text, as Kafka prints it: `endTxnMarker: COMMIT coordinatorEpoch: 0`.
    static func controlMarker(_ record: DecodedRecord) -> String? {
        guard let key = record.key, key.count >= 4 else { return nil }
        let type = Int16(bitPattern: UInt16(key[2]) << 8 | UInt16(key[3]))
        switch type {
        case 0, 1:
            guard let value = record.value, value.count >= 6 else { return nil }
            let epoch = value[2..<6].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return "endTxnMarker: \(type == 1 ? "COMMIT" : "ABORT") coordinatorEpoch: \(Int32(bitPattern: epoch))"
        default:
            return "controlType: \(type)"
        }
    }

    /// UTF-8 text with control characters escaped, `0x<hex>` for other bytes, `null` for nil.
    static func render(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "null" }
        // Fast path: printable ASCII needs no escaping.
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) { return String(decoding: bytes, as: UTF8.self) }
        if let text = utf8Text(bytes) {
            var escaped = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                case "\t": escaped += "\\t"
                case "\\": escaped += "\\\\"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        escaped += "\\u{\(String(scalar.value, radix: 16))}"
                    } else {
                        escaped.unicodeScalars.append(scalar)
                    }
                }
            }
            return escaped
        }
        return "0x" + hex(bytes)
    }

    /// The bytes as a String when they are valid UTF-8.
    static func utf8Text(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.utf8.elementsEqual(bytes) ? text : nil
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
