import NIOCore

/// Encodes response frames: size prefix, response header of the API's header version, body.
///
/// The result is a list of `IOData` parts: buffers, and the file regions of any `records` fields, so fetched
/// batches can be written with sendfile. Stateless; thread-safe.
public enum KafkaResponseFrame {
    /// Encodes `body` as the response to a request of `version` with `correlationId`: the frame's parts only.
    /// A response that carries file regions must be sent with `encodeRetaining`, whose result keeps the regions'
    /// descriptors open until written.
    public static func encode(
        _ body: some KafkaResponseMessage, version: Int16, correlationId: Int32,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws -> [IOData] {
        try encodeRetaining(body, version: version, correlationId: correlationId, allocator: allocator).parts
    }

    /// Encodes `body` as the response to a request of `version` with `correlationId`, with what its record sets
    /// retain.
    public static func encodeRetaining(
        _ body: some KafkaResponseMessage, version: Int16, correlationId: Int32,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws -> EncodedResponse {
        let apiKey = type(of: body).apiKey
        var writer = KafkaWriter(allocator: allocator)
        writer.writeInteger(Int32(0))
        try ResponseHeader(correlationId: correlationId)
            .encode(to: &writer, headerVersion: apiKey.responseHeaderVersion(version))
        try body.checkedEncode(to: &writer, version: version)
        var parts = writer.parts()
        guard case .byteBuffer(var first) = parts[0] else {
            throw KafkaProtocolError(.unencodable, "response frame does not start with a buffer")
        }
        guard let size = Int32(exactly: writer.byteCount - 4) else {
            throw KafkaProtocolError(.unencodable, "response of \(writer.byteCount) bytes exceeds a frame's 32-bit size")
        }
        first.setInteger(size, at: first.readerIndex)
        parts[0] = .byteBuffer(first)
        return EncodedResponse(parts: parts, retained: writer.retained)
    }

    /// Decodes a response frame (without its size prefix) to a request of `apiKey` and `version`
    /// (the client side, used by tools and tests).
    public static func decode<Response: KafkaResponseMessage>(
        _ type: Response.Type, frame: ByteBuffer, version: Int16
    ) throws -> (header: ResponseHeader, body: Response) {
        var buffer = frame
        let header = try ResponseHeader(from: &buffer, headerVersion: Response.apiKey.responseHeaderVersion(version))
        let body = try Response.decode(from: &buffer, version: version)
        guard buffer.readableBytes == 0 else {
            throw KafkaProtocolError(.invalid, "\(Response.self) v\(version): \(buffer.readableBytes) trailing bytes")
        }
        return (header, body)
    }
}
