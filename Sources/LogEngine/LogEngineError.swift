/// The one error type of LogEngine: a code, a message and context.
///
/// Thread-safety: a value type, freely shareable.
public struct LogEngineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A record batch failed validation (client input or data read back from disk).
        case corruptBatch
        /// An index file failed its sanity check.
        case corruptIndex
        case invalidArgument
        case io
        case offsetOutOfRange
        case recordTooLarge
        /// A partition or file that was expected is missing.
        case notFound
        /// A partition that should be created exists already.
        case alreadyExists
        /// The log was closed.
        case closed
        /// An idempotent producer's batch does not follow its last sequence (or a new epoch does not start at 0).
        case outOfOrderSequence
        /// An idempotent producer's batch carries an epoch older than the producer's current one.
        case invalidProducerEpoch
        /// Records that disagree with their batch header, or a batch a client may not write (Kafka's
        /// `InvalidRecordException`).
        case invalidRecord
        /// A transactional batch without an ongoing transaction.
        case invalidTransactionState
    }
    public var code: Code
    public var message: String
    public var context: String

    public init(_ code: Code, _ message: String, context: String = "") {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String {
        context.isEmpty ? "\(code.rawValue): \(message)" : "\(code.rawValue): \(message) (\(context))"
    }
}
