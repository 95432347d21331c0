import NIOCore

/// Splits a connection's byte stream into Kafka frames (a 4-byte big-endian size, then that many bytes)
/// without a cumulation buffer.
///
/// Whole frames inside one read are handed on as slices of that read's buffer (no copy); only a frame split
/// across reads is copied, once, into a buffer sized for it (capped at 1 MiB up front, grown as bytes arrive,
/// so a bare size prefix cannot make the broker allocate `maximumFrameSize`). A negative size or one above
/// `maximumFrameSize` (Kafka's `socket.request.max.bytes`) raises ``KafkaProtocolError`` through
/// `errorCaught`, and nothing more is read from the stream.
///
/// With a ``FrameMemoryBudget`` (shared by every connection), a frame split across reads first reserves its
/// whole size there; while the budget cannot grant it, the connection's reads are held back (its outbound
/// `read` events are not passed on) and the reservation is retried every few milliseconds, so partial frames of
/// many connections together never hold more than the budget (Kafka's `queued.max.request.bytes` memory pool).
/// The reservation is released when the frame is complete or the connection goes away.
/// One instance per connection; event-loop confined.
public final class KafkaFrameAssembler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = Never

    public let maximumFrameSize: Int
    private let budget: FrameMemoryBudget?
    /// Bytes reserved from `budget` for the pending frame.
    private var reserved = 0
    private var waitingForBudget = false
    private var readHeldBack = false
    /// The bytes of an incomplete frame, size prefix included.
    private var pending: ByteBuffer?
    /// The pending frame's total length (prefix included) once its prefix is complete; 0 before.
    private var expected = 0
    private var failed = false

    public init(maximumFrameSize: Int = 104_857_600, budget: FrameMemoryBudget? = nil) {
        self.maximumFrameSize = maximumFrameSize
        self.budget = budget
    }

    public func read(context: ChannelHandlerContext) {
        guard !waitingForBudget else {
            readHeldBack = true
            return
        }
        context.read()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        releaseReservation()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        releaseReservation()
        pending = nil
        context.fireChannelInactive()
    }

    private func releaseReservation() {
        if reserved > 0 { budget?.release(reserved) }
        reserved = 0
    }

    /// Reserves the pending frame's size, or holds reads back and retries until the budget grants it.
    private func reserveForPendingFrame(context: ChannelHandlerContext) {
        guard let budget, reserved == 0, expected > 0, !waitingForBudget else { return }
        if budget.reserve(expected) {
            reserved = expected
            return
        }
        waitingForBudget = true
        scheduleRetry(context: context, budget: budget)
    }

    private func scheduleRetry(context: ChannelHandlerContext, budget: FrameMemoryBudget) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(5)) {
            let (assembler, context) = bound.value
            guard assembler.waitingForBudget, assembler.pending != nil, !assembler.failed else {
                assembler.stopWaiting(context: context)
                return
            }
            if budget.reserve(assembler.expected) {
                assembler.reserved = assembler.expected
                assembler.stopWaiting(context: context)
            } else {
                assembler.scheduleRetry(context: context, budget: budget)
            }
        }
    }

    private func stopWaiting(context: ChannelHandlerContext) {
        waitingForBudget = false
        if readHeldBack {
            readHeldBack = false
            context.read()
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var input = unwrapInboundIn(data)
        do {
            if pending != nil {
                guard let frame = try complete(with: &input, allocator: context.channel.allocator) else {
                    reserveForPendingFrame(context: context)
                    return
                }
                if waitingForBudget { stopWaiting(context: context) }
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
                reserveForPendingFrame(context: context)
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
        releaseReservation()
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer
    }

    private func validated(_ size: Int32) throws -> Int {
        try KafkaFrameDecoder.validatedSize(size, maximum: maximumFrameSize)
    }
}
