import LogEngine

// The JSON Lines form of `dump --json`: one object per batch (records nested when asked for), per index entry,
// and per invalid tail. Keys and values are `"key": "<text>"` when UTF-8, else `"keyHex": "<hex>"`; null is
// `"key": null`.

/// Bytes in the JSON form described above, under a field name and its `Hex` variant.
struct JSONBytes {
    var bytes: [UInt8]?

    func encode(to container: inout KeyedEncodingContainer<DynamicKey>, name: String) throws {
        guard let bytes else {
            try container.encodeNil(forKey: DynamicKey(name))
            return
        }
        if let text = Dumper.utf8Text(bytes) {
            try container.encode(text, forKey: DynamicKey(name))
        } else {
            try container.encode(Dumper.hex(bytes), forKey: DynamicKey(name + "Hex"))
        }
    }
}

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

struct HeaderJSON: Encodable {
    var header: DecodedRecord.Header

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try JSONBytes(bytes: header.key).encode(to: &container, name: "key")
        try JSONBytes(bytes: header.value).encode(to: &container, name: "value")
    }
}

struct RecordJSON: Encodable {
    var record: DecodedRecord
    var batch: RecordBatchHeader
    var withData: Bool

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(record.offset, forKey: DynamicKey("offset"))
        try container.encode(record.timestamp, forKey: DynamicKey("timestamp"))
        try container.encode(Dumper.sequence(of: record, in: batch), forKey: DynamicKey("sequence"))
        try container.encode(record.key.map { $0.count } ?? -1, forKey: DynamicKey("keySize"))
        try container.encode(record.value.map { $0.count } ?? -1, forKey: DynamicKey("valueSize"))
        if batch.isControl, let marker = Dumper.controlMarker(record) {
            try container.encode(marker, forKey: DynamicKey("control"))
        }
        if withData {
            try JSONBytes(bytes: record.key).encode(to: &container, name: "key")
            try JSONBytes(bytes: record.value).encode(to: &container, name: "value")
            try container.encode(record.headers.map { HeaderJSON(header: $0) }, forKey: DynamicKey("headers"))
        } else {
            try container.encode(record.headers.map { Dumper.render($0.key) }, forKey: DynamicKey("headerKeys"))
        }
    }
}

struct BatchJSON: Encodable {
    var file: String
    var position: Int
    var header: RecordBatchHeader
    var isValid: Bool
    var records: [DecodedRecord]?
    var withData: Bool
    var recordError: String?

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: DynamicKey.self)
        try c.encode(file, forKey: DynamicKey("file"))
        try c.encode(position, forKey: DynamicKey("position"))
        try c.encode(header.baseOffset, forKey: DynamicKey("baseOffset"))
        try c.encode(header.lastOffset, forKey: DynamicKey("lastOffset"))
        try c.encode(header.recordCount, forKey: DynamicKey("count"))
        try c.encode(header.baseSequence, forKey: DynamicKey("baseSequence"))
        try c.encode(Dumper.lastSequence(header), forKey: DynamicKey("lastSequence"))
        try c.encode(header.producerId, forKey: DynamicKey("producerId"))
        try c.encode(header.producerEpoch, forKey: DynamicKey("producerEpoch"))
        try c.encode(header.partitionLeaderEpoch, forKey: DynamicKey("partitionLeaderEpoch"))
        try c.encode(header.isTransactional, forKey: DynamicKey("isTransactional"))
        try c.encode(header.isControl, forKey: DynamicKey("isControl"))
        try c.encode(Dumper.timestampType(header), forKey: DynamicKey("timestampType"))
        try c.encode(header.baseTimestamp, forKey: DynamicKey("baseTimestamp"))
        try c.encode(header.maxTimestamp, forKey: DynamicKey("maxTimestamp"))
        try c.encode(header.totalSize, forKey: DynamicKey("size"))
        try c.encode(header.magic, forKey: DynamicKey("magic"))
        try c.encode(Dumper.codecName(header), forKey: DynamicKey("compression"))
        try c.encode(header.crc, forKey: DynamicKey("crc"))
        try c.encode(isValid, forKey: DynamicKey("isValid"))
        if let records {
            try c.encode(records.map { RecordJSON(record: $0, batch: header, withData: withData) },
                         forKey: DynamicKey("records"))
        }
        if let recordError { try c.encode(recordError, forKey: DynamicKey("recordError")) }
    }
}

struct InvalidTail: Encodable {
    var file: String
    var position: Int
    var invalidBytes: Int
}

struct OffsetEntryJSON: Encodable {
    var file: String
    var offset: Int64
    var position: Int32
}

struct TimeEntryJSON: Encodable {
    var file: String
    var timestamp: Int64
    var offset: Int64
}
