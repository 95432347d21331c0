/// One record of any message format (v0, v1 or v2), decoded into owned bytes: what format conversion passes
/// between a record batch v2 and a legacy message set.
///
/// `timestamp` is -1 when the format has none (message format v0). `headers` are empty for v0/v1.
/// Thread-safety: a value type.
public struct DecodedRecord: Sendable, Equatable {
    /// A record header (v2 only): a key and a nullable value, both raw bytes.
    public struct Header: Sendable, Equatable {
        public var key: [UInt8]
        public var value: [UInt8]?

        public init(key: [UInt8], value: [UInt8]?) {
            self.key = key
            self.value = value
        }
    }

    public static let noTimestamp: Int64 = -1

    public var offset: Int64
    public var timestamp: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [Header]

    public init(
        offset: Int64, timestamp: Int64 = noTimestamp, key: [UInt8]? = nil, value: [UInt8]?, headers: [Header] = []
    ) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }
}
