import LogEngine
import NIOCore

/// What a produce run is asked to do.
struct ProduceSettings: Sendable {
    var topic: String
    var partitions: [Int32]
    var messageSize: Int
    /// Messages to send; `nil` with `duration` set means "until the duration ends".
    var count: Int?
    var duration: TimeAmount?
    /// Messages per second; 0 is unlimited.
    var rate: Double
    var acks: Int16
    var batchBytes: Int
    var lingerMs: Int
    var codec: CompressionCodec
    var maxInFlight: Int
    var timeoutMs: Int32 = 30_000
}
