import NIOCore

/// What a consume run is asked to do.
struct ConsumeSettings: Sendable {
    var topic: String
    /// Start offset per partition.
    var start: [Int32: Int64]
    /// Stop once each partition reaches this offset (`nil`: no end; use `count` or `duration`).
    var end: [Int32: Int64]?
    var count: Int?
    var duration: TimeAmount?
    var maxWaitMs: Int32
    var fetchMaxBytes: Int32
    var partitionMaxBytes: Int32
    var checkCRC: Bool
}
