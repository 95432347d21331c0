// The errors of client batch validation, in one place so their codes can be refined without touching callers.

extension LogEngineError {
    /// Records that disagree with their batch header, or a batch a client may not write (a control batch): Kafka's
    /// `InvalidRecordException`, answered with INVALID_RECORD (87). Code `invalidArgument`, which the broker maps to
    /// INVALID_RECORD.
    public static func invalidRecord(_ message: String, context: String = "") -> LogEngineError {
        LogEngineError(.invalidArgument, message, context: context)
    }

    /// A transactional batch while the broker serves no transactions: Kafka would answer INVALID_TXN_STATE (48)
    /// for a producer without an ongoing transaction. Code `invalidArgument` (INVALID_RECORD) until the broker
    /// maps a dedicated code.
    public static func transactionalBatchRefused(_ message: String, context: String = "") -> LogEngineError {
        LogEngineError(.invalidArgument, message, context: context)
    }
}
