import NIOCore

/// A decoded request frame: its header and its typed body.
///
/// The body's `records` fields are slices of the frame, so the frame's memory lives as long as the request.
public struct KafkaRequest: Sendable {
    public var header: RequestHeader
    public var apiKey: ApiKey
    public var body: any KafkaRequestMessage

    public init(header: RequestHeader, apiKey: ApiKey, body: any KafkaRequestMessage) {
        self.header = header
        self.apiKey = apiKey
        self.body = body
    }

    /// Decodes a whole request frame (without its size prefix).
    ///
    /// Throws ``KafkaProtocolError`` with `.unknownApiKey` or `.unsupportedVersion` when the API or version is not
    /// in the schemas (use ``RequestHeader/peek(_:)`` to answer those), and `.truncated`/`.invalid` on malformed
    /// bytes. Bytes after the body are ignored, as Kafka ignores them: librdkafka 2.16 leaves a few after an
    /// all-topics Metadata v12 request. The body's arrays may take at most `decodingBudget` bytes of element
    /// storage (``DecodingBudget``), so a small frame of many tiny elements cannot make the broker allocate
    /// many times its size; past it the error is `.budgetExceeded`.
    public static func decode(
        frame: ByteBuffer, decodingBudget: Int = DecodingBudget.defaultRequestBudget
    ) throws -> KafkaRequest {
        guard let (rawKey, version, _) = RequestHeader.peek(frame) else {
            throw KafkaProtocolError(.truncated, "request frame of \(frame.readableBytes) bytes has no header")
        }
        guard let apiKey = ApiKey(rawValue: rawKey) else {
            throw KafkaProtocolError(.unknownApiKey, "unknown API key \(rawKey)")
        }
        guard apiKey.validVersions.contains(version) else {
            throw KafkaProtocolError(.unsupportedVersion, "\(apiKey.name) has no version \(version)")
        }
        var buffer = frame
        let header = try RequestHeader(from: &buffer, headerVersion: apiKey.requestHeaderVersion(version))
        let body = try DecodingBudget.withBudget(decodingBudget) {
            try apiKey.requestType.init(from: &buffer, version: version)
        }
        return KafkaRequest(header: header, apiKey: apiKey, body: body)
    }

    /// Encodes a request frame with its 4-byte size prefix (the client side, used by tools and tests).
    public static func frame(
        _ body: some KafkaRequestMessage, version: Int16, correlationId: Int32, clientId: String?
    ) throws -> ByteBuffer {
        let apiKey = type(of: body).apiKey
        var writer = KafkaWriter()
        writer.writeInteger(Int32(0))
        let header = RequestHeader(
            apiKey: apiKey.rawValue, apiVersion: version, correlationId: correlationId, clientId: clientId)
        try header.encode(to: &writer, headerVersion: apiKey.requestHeaderVersion(version))
        try body.checkedEncode(to: &writer, version: version)
        guard writer.completedParts.isEmpty else {
            throw KafkaProtocolError(.unencodable, "request bodies cannot carry file regions")
        }
        writer.buffer.setInteger(Int32(writer.buffer.readableBytes - 4), at: writer.buffer.readerIndex)
        return writer.buffer
    }
}
