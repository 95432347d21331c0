import NIOCore

/// Matches response frames to the promises of the requests written before them, in order.
/// Event-loop confined (a channel handler).
final class ResponseMatcher: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var waiting = CircularBuffer<(Int32, EventLoopPromise<ByteBuffer?>)>(initialCapacity: 64)

    func enqueue(correlationId: Int32, promise: EventLoopPromise<ByteBuffer?>) {
        waiting.append((correlationId, promise))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let (correlationId, promise) = waiting.popFirst() else {
            context.fireErrorCaught(BenchError("response without a request"))
            return
        }
        guard frame.getInteger(at: frame.readerIndex, as: Int32.self) == correlationId else {
            let error = BenchError("response correlation id does not match request \(correlationId)")
            promise.fail(error)
            context.fireErrorCaught(error)
            return
        }
        promise.succeed(frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(BenchError("connection closed by the broker"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: Error) {
        while let (_, promise) = waiting.popFirst() { promise.fail(error) }
    }
}
