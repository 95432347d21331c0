import NIOCore

/// Splits a byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes.
///
/// Each frame is handed on as a slice of the receive buffer (`readSlice`, no copy), without its size prefix.
/// A negative size or one above `maximumFrameSize` (Kafka's `socket.request.max.bytes`) is an error, raised
/// before anything is buffered for it. One instance per connection; not thread-safe (NIO event-loop confined).
public struct KafkaFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = 104_857_600) {
        self.maximumFrameSize = maximumFrameSize
    }

    /// Takes the next whole frame off the front of `buffer`, or returns `nil` when more bytes are needed.
    public func nextFrame(from buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else {
            return nil
        }
        _ = try Self.validatedSize(size, maximum: maximumFrameSize)
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }

    /// A frame's size prefix as a length, or Kafka's error for a negative size or one above `maximum`.
    static func validatedSize(_ size: Int32, maximum: Int) throws -> Int {
        guard size >= 0 else { throw KafkaProtocolError(.invalid, "frame size \(size) is negative") }
        guard Int(size) <= maximum else {
            throw KafkaProtocolError(.frameTooLarge, "frame of \(size) bytes exceeds the limit of \(maximum)")
        }
        return Int(size)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
