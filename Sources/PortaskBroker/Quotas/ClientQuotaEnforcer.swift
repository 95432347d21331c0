import Atomics
import NIOConcurrencyHelpers

/// Enforces the client quotas as Kafka's `ClientQuotaManager` and `ClientRequestQuotaManager` do:
/// `producer_byte_rate` on produce request bytes, `consumer_byte_rate` on fetch response bytes and
/// `request_percentage` on the time requests take to handle (100 is one thread's whole time), per (user,
/// client-id) quota entity.
///
/// The quota of a client is found in Kafka's order: user and client-id, user and default client-id, user,
/// default user and client-id, default user and default client-id, default user, client-id, default client-id
/// (the user is the principal's name, `ANONYMOUS` without authentication); clients sharing the matching entity
/// share its rate. A request-time throttle is at most one quota window, as Kafka caps it. Rates are
/// measured over `quota.window.num` windows of `quota.window.size.seconds` (Kafka's sampled rate); a request that
/// takes the rate above the quota gets a throttle time of (rate − quota) / quota × the measured window, which the
/// broker puts in the response and for which it mutes the connection. Without quotas of a type, recording costs
/// one atomic load. Sensors are bounded (`maximumSensors`; idle ones are dropped first). Thread-safe.
final class ClientQuotaEnforcer: Sendable {
    enum QuotaType: String, CaseIterable, Sendable {
        case produce
        case fetch
        case request

        var key: String {
            switch self {
            case .produce: "producer_byte_rate"
            case .fetch: "consumer_byte_rate"
            case .request: "request_percentage"
            }
        }
    }

    static let anonymousUser = "ANONYMOUS"
    static let maximumSensors = 10_000

    let samples: Int
    let windowMs: Int64
    private let active: [QuotaType: ManagedAtomic<Bool>]
    /// Entity components -> bound, per quota type.
    private let bounds: NIOLockedValueBox<[QuotaType: [ClientQuotaEntity: Double]]>
    private let sensors = NIOLockedValueBox<[SensorKey: RateWindow]>([:])
    private let metrics: BrokerMetrics?

    private struct SensorKey: Hashable {
        var type: QuotaType
        var user: String
        var clientId: String
    }

    init(samples: Int = 11, windowSeconds: Int = 1, metrics: BrokerMetrics? = nil) {
        self.samples = max(2, samples)
        windowMs = Int64(max(1, windowSeconds)) * 1000
        active = Dictionary(uniqueKeysWithValues: QuotaType.allCases.map { ($0, ManagedAtomic(false)) })
        bounds = NIOLockedValueBox([:])
        self.metrics = metrics
    }

    /// Takes the quotas of a `ClientQuotaStore` (called on every change).
    func update(_ quotas: [ClientQuotaEntity: [String: Double]]) {
        var byType: [QuotaType: [ClientQuotaEntity: Double]] = [:]
        for type in QuotaType.allCases {
            byType[type] = quotas.compactMapValues { $0[type.key] }
        }
        bounds.withLockedValue { $0 = byType }
        for type in QuotaType.allCases {
            active[type]?.store(!(byType[type]?.isEmpty ?? true), ordering: .releasing)
        }
    }

    /// Whether any quota of `type` is configured (one atomic load).
    func isActive(_ type: QuotaType) -> Bool { active[type]?.load(ordering: .acquiring) ?? false }

    /// The quota that applies to a client and the sensor it is measured by, in Kafka's matching order.
    private func quota(_ type: QuotaType, user: String, clientId: String) -> (bound: Double, key: SensorKey)? {
        let table = bounds.withLockedValue { $0[type] ?? [:] }
        let u = ClientQuotaEntity.user
        let c = ClientQuotaEntity.clientId
        let byDefault: String? = nil
        let order: [([String: String?], String, String)] = [
            ([u: user, c: clientId], user, clientId),
            ([u: user, c: byDefault], user, clientId),
            ([u: user], user, ""),
            ([u: byDefault, c: clientId], user, clientId),
            ([u: byDefault, c: byDefault], user, clientId),
            ([u: byDefault], user, ""),
            ([c: clientId], "", clientId),
            ([c: byDefault], "", clientId),
        ]
        for (components, userTag, clientTag) in order {
            if let bound = table[ClientQuotaEntity(components: components)] {
                return (bound, SensorKey(type: type, user: userTag, clientId: clientTag))
            }
        }
        return nil
    }

    /// The most bytes one response may carry under the client's fetch quota (Kafka's
    /// `getMaxValueInQuotaWindow`), or nil without one.
    func maximumInWindow(_ type: QuotaType, user: String = ClientQuotaEnforcer.anonymousUser, clientId: String) -> Int? {
        guard isActive(type), let (bound, _) = quota(type, user: user, clientId: clientId) else { return nil }
        let value = bound * Double(samples - 1) * Double(windowMs) / 1000
        return value >= Double(Int.max) ? Int.max : max(1, Int(value))
    }

    /// Records `bytes` for the client and returns the throttle time in ms (0 when within the quota or without
    /// one).
    func record(_ type: QuotaType, user: String = ClientQuotaEnforcer.anonymousUser, clientId: String, bytes: Int, nowMs: Int64) -> Int32 {
        record(type, user: user, clientId: clientId, value: Double(bytes), nowMs: nowMs)
    }

    /// Records the time a request took to handle against the client's `request_percentage` and returns the
    /// throttle time in ms, at most one quota window (0 when within the quota or without one).
    func recordRequestTime(user: String, clientId: String, nanoseconds: UInt64, nowMs: Int64) -> Int32 {
        // Kafka's unit: percent of one thread over a second, so a rate of 100 is one thread kept busy.
        record(.request, user: user, clientId: clientId, value: Double(nanoseconds) / 10_000_000, nowMs: nowMs)
    }

    private func record(_ type: QuotaType, user: String, clientId: String, value: Double, nowMs: Int64) -> Int32 {
        guard isActive(type), let (bound, key) = quota(type, user: user, clientId: clientId) else { return 0 }
        let (rate, window) = sensors.withLockedValue { sensors -> (Double, Int64) in
            if sensors[key] == nil && sensors.count >= Self.maximumSensors {
                let idle = samples * Int(windowMs)
                sensors = sensors.filter { nowMs - $0.value.lastRecordMs < Int64(idle) }
                if sensors.count >= Self.maximumSensors, let victim = sensors.keys.first { sensors.removeValue(forKey: victim) }
            }
            var window = sensors[key] ?? RateWindow(samples: samples, windowMs: windowMs, nowMs: nowMs)
            window.record(value, nowMs: nowMs)
            sensors[key] = window
            return window.rate(nowMs: nowMs)
        }
        guard rate > bound else { return 0 }
        let throttle = ((rate - bound) / bound * Double(window)).rounded()
        var milliseconds = Int32(clamping: throttle >= Double(Int32.max) ? Int64(Int32.max) : Int64(throttle))
        if type == .request { milliseconds = min(milliseconds, Int32(clamping: windowMs)) }
        metrics?.recordThrottle(type.rawValue, milliseconds: Int(milliseconds))
        return milliseconds
    }

    /// Takes back bytes recorded for a response that is not sent after all (a throttled fetch answers empty).
    func unrecord(_ type: QuotaType, user: String = ClientQuotaEnforcer.anonymousUser, clientId: String, bytes: Int, nowMs: Int64) {
        guard isActive(type), let (_, key) = quota(type, user: user, clientId: clientId) else { return }
        sensors.withLockedValue { $0[key]?.record(-Double(bytes), nowMs: nowMs) }
    }
}

/// Kafka's sampled rate: `samples` windows of `windowMs`; the rate is their total over the elapsed time since
/// the oldest window, counted as at least `samples - 1` full windows. A value type.
struct RateWindow: Sendable {
    private var starts: [Int64]
    private var totals: [Double]
    private var current = 0
    let windowMs: Int64
    private(set) var lastRecordMs: Int64

    init(samples: Int, windowMs: Int64, nowMs: Int64) {
        starts = [nowMs]
        totals = [0]
        self.windowMs = windowMs
        lastRecordMs = nowMs
        starts.reserveCapacity(samples)
        self.samples = samples
    }

    let samples: Int

    mutating func record(_ value: Double, nowMs: Int64) {
        lastRecordMs = nowMs
        if nowMs - starts[current] >= windowMs {
            current = (current + 1) % samples
            if current >= starts.count {
                starts.append(nowMs)
                totals.append(0)
            } else {
                starts[current] = nowMs
                totals[current] = 0
            }
        }
        totals[current] += value
    }

    /// The rate per second at `nowMs` and the window length (ms) it was measured over.
    mutating func rate(nowMs: Int64) -> (Double, Int64) {
        let expireAge = Int64(samples) * windowMs
        for index in starts.indices where nowMs - starts[index] >= expireAge {
            starts[index] = nowMs
            totals[index] = 0
        }
        let oldest = starts.min() ?? nowMs
        var elapsed = nowMs - oldest
        let fullWindows = elapsed / windowMs
        let minimumFull = Int64(samples - 1)
        if fullWindows < minimumFull { elapsed += (minimumFull - fullWindows) * windowMs }
        let total = totals.reduce(0, +)
        return (elapsed > 0 ? total / (Double(elapsed) / 1000) : 0, elapsed)
    }
}
