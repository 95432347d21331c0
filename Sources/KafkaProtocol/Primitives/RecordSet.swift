import NIOCore

/// The opaque contents of a `records` field: Kafka record batches that the codec never decodes.
///
/// Decoding yields one `ByteBuffer` slice of the frame (no copy). For encoding, the parts may also be file
/// regions, so a fetch response can carry stored batches straight from segment files (sendfile); `retained`
/// then holds what keeps those regions' descriptors open until the response has been written (see
/// `EncodedResponse`). A value type; thread-safe to share.
public struct RecordSet: Sendable, Equatable {
    /// The byte ranges that make up the record set, in order.
    public var parts: [IOData]
    /// Objects that must stay alive until `parts` have been written: the owners of file regions' descriptors.
    public var retained: [any AnyObject & Sendable] = []

    public init(bytes: ByteBuffer) {
        parts = [.byteBuffer(bytes)]
    }

    public init(parts: [IOData], retaining retained: [any AnyObject & Sendable] = []) {
        self.parts = parts
        self.retained = retained
    }

    /// Total length in bytes.
    public var byteCount: Int { parts.reduce(0) { $0 + $1.readableBytes } }

    /// The bytes when the set is held in memory as a single buffer; `nil` when it refers to file regions.
    public var bytes: ByteBuffer? {
        if parts.count == 1, case .byteBuffer(let buffer) = parts[0] { return buffer }
        if parts.isEmpty { return ByteBuffer() }
        return nil
    }

    /// Equal when both hold the same bytes in memory, or the same parts otherwise.
    public static func == (lhs: RecordSet, rhs: RecordSet) -> Bool {
        if let l = lhs.bytes, let r = rhs.bytes { return l == r }
        return lhs.parts == rhs.parts
    }
}
