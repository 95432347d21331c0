import NIOCore

/// Splits a connection's byte stream into Kafka frames (a 4-byte big-endian size, then that many bytes)
/// without a cumulation buffer.
///
/// Whole frames inside one read are handed on as slices of that read's buffer (no copy); only a frame split
/// across reads is copied, once, into a buffer sized for it (capped at 1 MiB up front, grown as bytes arrive,
/// so a bare size prefix cannot make the broker allocate `maximumFrameSize`). A negative size or one above
/// `maximumFrameSize` (Kafka's `socket.request.max.bytes`) raises ``KafkaProtocolError`` through
/// `errorCaught`, and nothing more is read from the stream. One instance per connection; event-loop confined.
public final class KafkaFrameAssembler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    public let maximumFrameSize: Int
    /// The bytes of an incomplete frame, size prefix included.
    private var pending: ByteBuffer?
    /// The pending frame's total length (prefix included) once its prefix is complete; 0 before.
    private var expected = 0
    private var failed = false

    public init(maximumFrameSize: Int = 104_857_600) {
        self.maximumFrameSize = maximumFrameSize
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var input = unwrapInboundIn(data)
        do {
            if pending != nil {
                guard let frame = try complete(with: &input, allocator: context.channel.allocator) else { return }
                context.fireChannelRead(wrapInboundOut(frame))
            }
            while let size = input.getInteger(at: input.readerIndex, endianness: .big, as: Int32.self) {
                let length = try validated(size)
                guard input.readableBytes >= 4 + length, let frame = input.getSlice(at: input.readerIndex + 4, length: length)
                else { break }
                input.moveReaderIndex(forwardBy: 4 + length)
                context.fireChannelRead(wrapInboundOut(frame))
            }
            if input.readableBytes > 0 {
                let size = try input.getInteger(at: input.readerIndex, endianness: .big, as: Int32.self)
                    .map { 4 + (try validated($0)) }
                var buffer = context.channel.allocator.buffer(capacity: min(size ?? 4, 1 << 20))
                buffer.writeBuffer(&input)
                pending = buffer
                expected = size ?? 0
            }
        } catch {
            failed = true
            pending = nil
            context.fireErrorCaught(error)
        }
    }

    /// Moves bytes from `input` into the pending frame; returns the frame (without its prefix) once complete.
    private func complete(with input: inout ByteBuffer, allocator: ByteBufferAllocator) throws -> ByteBuffer? {
        guard var buffer = pending else { return nil }
        pending = nil
        if expected == 0 {
            let take = min(4 - buffer.readableBytes, input.readableBytes)
            if let prefix = input.readSlice(length: take) { buffer.writeImmutableBuffer(prefix) }
            guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else {
                pending = buffer
                return nil
            }
            expected = 4 + (try validated(size))
            var sized = allocator.buffer(capacity: min(expected, 1 << 20))
            sized.writeBuffer(&buffer)
            buffer = sized
        }
        let take = min(expected - buffer.readableBytes, input.readableBytes)
        if let chunk = input.readSlice(length: take) { buffer.writeImmutableBuffer(chunk) }
        guard buffer.readableBytes == expected else {
            pending = buffer
            return nil
        }
        expected = 0
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer
    }

    private func validated(_ size: Int32) throws -> Int {
        try KafkaFrameDecoder.validatedSize(size, maximum: maximumFrameSize)
    }
}
