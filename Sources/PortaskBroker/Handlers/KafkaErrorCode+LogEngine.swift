import KafkaProtocol
import LogEngine

extension KafkaErrorCode {
    /// The Kafka error a storage failure is reported as.
    init(_ error: Error) {
        guard let error = error as? LogEngineError else {
            self = .unknownServerError
            return
        }
        switch error.code {
        case .corruptBatch: self = .corruptMessage
        case .recordTooLarge: self = .messageTooLarge
        case .invalidArgument: self = .invalidRecord
        case .offsetOutOfRange: self = .offsetOutOfRange
        case .notFound: self = .unknownTopicOrPartition
        case .io, .corruptIndex: self = .kafkaStorageError
        case .closed: self = .notLeaderOrFollower
        case .alreadyExists: self = .unknownServerError
        case .outOfOrderSequence: self = .outOfOrderSequenceNumber
        case .invalidProducerEpoch: self = .invalidProducerEpoch
        case .invalidRecord: self = .invalidRecord
        case .invalidTransactionState: self = .invalidTxnState
        }
    }
}
