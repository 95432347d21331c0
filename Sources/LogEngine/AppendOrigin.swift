/// Who wrote the batches of an append, which decides what they may contain (Kafka's `AppendOrigin`).
///
/// Both origins have their records checked against their batch headers (see `RecordValidator`).
/// Thread-safety: a value type.
public enum AppendOrigin: Sendable, Equatable {
    /// A producer's batches (Produce requests): control batches are refused (INVALID_RECORD, as Kafka does);
    /// producer epochs and sequences are checked.
    case client
    /// Batches the broker writes itself (coordinators' internal topics, transaction markers): control and
    /// transactional batches are allowed, sequences are not checked.
    case broker
}
