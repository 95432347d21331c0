#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A per-decode allocation budget for array elements.
///
/// Array counts are already bounded by the bytes left in the frame, but an element can take far more memory
/// decoded than on the wire (an empty compact string is one byte on the wire and a 16-byte `String` decoded, a
/// struct of defaults even more). While ``withBudget(_:_:)`` runs, every decoded array charges
/// `count × (stride + 8)` bytes to the budget and decoding fails with `.budgetExceeded` once it is spent.
/// Outside ``withBudget(_:_:)`` nothing is charged (client-side and test decoding).
///
/// Thread-safety: the budget is per thread (decoding is synchronous); nested budgets restore the outer one.
public enum DecodingBudget {
    /// The default budget of one request body: 32 MiB of array element storage, hundreds of times what a real
    /// client's largest request (a Fetch or Metadata naming every partition of a big cluster) needs.
    public static let defaultRequestBudget = 32 << 20

    @usableFromInline
    final class Remaining {
        @usableFromInline var bytes: Int
        init(bytes: Int) { self.bytes = bytes }
    }

    @usableFromInline
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `body` with `bytes` of budget for the arrays it decodes on this thread.
    public static func withBudget<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
        let remaining = Remaining(bytes: bytes)
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(remaining).toOpaque())
        defer { pthread_setspecific(key, previous) }
        return try withExtendedLifetime(remaining) { try body() }
    }

    /// Charges `elements` decoded values of `Element` to the current budget, if any.
    @inlinable
    static func charge<Element>(elements: Int, of _: Element.Type, field: StaticString) throws {
        guard elements > 0, let raw = pthread_getspecific(key) else { return }
        let remaining = Unmanaged<Remaining>.fromOpaque(raw).takeUnretainedValue()
        let (cost, overflow) = elements.multipliedReportingOverflow(by: MemoryLayout<Element>.stride + 8)
        guard !overflow, cost <= remaining.bytes else {
            remaining.bytes = 0
            throw KafkaProtocolError(
                .budgetExceeded, "\(field): \(elements) elements exceed the request's decoding budget")
        }
        remaining.bytes -= cost
    }
}
