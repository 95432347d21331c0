import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Logs refusals by limits and budgets once per burst, and counts every one in `portask_refusals_total`.
///
/// The first refusal of a cause is logged with its detail; later ones within `quietPeriod` are only counted, and
/// the next line after the period says how many were not logged. So a flood of refused connections or requests
/// costs a counter increment each, not a log line each. Thread-safe.
public final class RefusalLog: Sendable {
    private struct CauseState {
        var lastLogged: NIODeadline
        var suppressed: Int
    }

    private let logger: Logger
    private let metrics: BrokerMetrics?
    private let quietPeriod: TimeAmount
    private let states = NIOLockedValueBox<[RefusalCause: CauseState]>([:])

    public init(logger: Logger, metrics: BrokerMetrics?, quietPeriod: TimeAmount = .seconds(10)) {
        self.logger = logger
        self.metrics = metrics
        self.quietPeriod = quietPeriod
    }

    /// Records one refusal of `cause`; logs `detail` at warning level unless the cause was logged recently.
    public func refused(_ cause: RefusalCause, _ detail: @autoclosure () -> String) {
        metrics?.recordRefusal(cause)
        let now = NIODeadline.now()
        let suppressed = states.withLockedValue { states -> Int? in
            if let state = states[cause], now - state.lastLogged < quietPeriod {
                states[cause]?.suppressed += 1
                return nil
            }
            let earlier = states[cause]?.suppressed ?? 0
            states[cause] = CauseState(lastLogged: now, suppressed: 0)
            return earlier
        }
        guard let suppressed else { return }
        var metadata: Logger.Metadata = ["cause": "\(cause.rawValue)"]
        if suppressed > 0 { metadata["unlogged_since_last"] = "\(suppressed)" }
        logger.warning("refused: \(detail())", metadata: metadata)
    }
}
