import KafkaProtocol
import NIOConcurrencyHelpers

/// The broker-wide memory pool for partially received request frames, sized by Kafka's
/// `queued.max.request.bytes`: connections whose split frames do not fit wait (their reads held back) until
/// other frames complete. A frame is always granted when nothing is reserved, so one frame larger than the pool
/// still gets through. Thread-safe.
final class RequestMemoryPool: FrameMemoryBudget {
    let capacity: Int
    private let used = NIOLockedValueBox(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Bytes reserved now.
    var reservedBytes: Int { used.withLockedValue { $0 } }

    func reserve(_ bytes: Int) -> Bool {
        used.withLockedValue { used in
            guard used == 0 || bytes <= capacity - used else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        used.withLockedValue { $0 = max(0, $0 - bytes) }
    }
}
