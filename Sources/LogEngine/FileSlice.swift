import NIOCore

/// A run of whole record batches in one segment file: what a fetch sends, as a file region.
///
/// `file` (and so `fileDescriptor`) stays open, and the bytes stay readable, as long as the slice exists, even
/// when retention deletes the segment or the segment closes its own descriptor meanwhile. Never close the
/// descriptor: hold the slice (or its `file`) until the bytes have been sent.
///
/// Thread-safety: immutable and `Sendable`.
public struct FileSlice: Sendable {
    /// The segment's open file, held by the slice.
    public let file: SegmentFile
    /// `file.descriptor`.
    public var fileDescriptor: CInt { file.descriptor }
    /// Byte position of the first batch in the file.
    public let position: Int
    /// Length in bytes (whole batches).
    public let length: Int
    /// Base offset of the first batch (at most the requested offset).
    public let firstOffset: Int64
    /// The offset after the last batch.
    public let nextOffset: Int64
    let segment: LogSegment

    /// Calls `body` with the slice's bytes, read through the segment's memory mapping (no copy).
    public func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let (mapping, bytes) = try segment.view()
        return try withExtendedLifetime(mapping) {
            guard position + length <= bytes.count else {
                throw LogEngineError(.io, "slice past the end of the segment", context: segment.logPath)
            }
            return try body(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]))
        }
    }

    /// The slice's bytes copied into a new array.
    public func copyBytes() throws -> [UInt8] {
        try withUnsafeBytes { Array($0) }
    }

    /// The slice's bytes copied into a `ByteBuffer` (the copying fetch path, e.g. under TLS).
    public func readBuffer(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        try withUnsafeBytes { bytes in
            var buffer = allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            return buffer
        }
    }
}
