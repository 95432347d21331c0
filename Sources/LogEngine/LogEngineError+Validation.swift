// The errors of client batch validation, in one place so their codes can be refined without touching callers.

extension LogEngineError {
    /// Records that disagree with their batch header, or a batch a client may not write (a control batch): Kafka's
    /// `InvalidRecordException`, answered with INVALID_RECORD (87).
    public static func invalidRecord(_ message: String, context: String = "") -> LogEngineError {
        LogEngineError(.invalidRecord, message, context: context)
    }

    /// A transactional batch of a producer without an ongoing transaction: Kafka's INVALID_TXN_STATE (48).
    public static func transactionalBatchRefused(_ message: String, context: String = "") -> LogEngineError {
        LogEngineError(.invalidTransactionState, message, context: context)
    }
}
