/// Memory that partially received request frames may hold, shared by every connection of a broker.
///
/// ``KafkaFrameAssembler`` reserves a split frame's whole size before buffering it and releases it once the
/// frame is complete or its connection closes. Implementations must be thread-safe, and should grant a request
/// when nothing is reserved, whatever its size, so a single frame larger than the budget still progresses.
public protocol FrameMemoryBudget: AnyObject, Sendable {
    /// Reserves `bytes`; `false` when they are not available now (the caller retries later).
    func reserve(_ bytes: Int) -> Bool
    /// Returns bytes reserved earlier.
    func release(_ bytes: Int)
}
