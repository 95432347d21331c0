/// Why the broker refused a connection or a request: the `cause` label of `portask_refusals_total`, and the
/// subject of the one log line each cause gets per burst (``RefusalLog``).
public enum RefusalCause: String, Sendable, CaseIterable {
    /// `max.connections` reached.
    case maxConnections = "max_connections"
    /// `max.connections.per.ip` reached.
    case maxConnectionsPerIp = "max_connections_per_ip"
    /// accept(2) failed: descriptors or memory exhausted.
    case acceptFailed = "accept_failed"
    /// A request decoded to more elements than the per-request allocation budget allows.
    case requestBudget = "request_budget"
    /// A SASL authentication failed, or a request arrived before authentication completed.
    case authenticationFailed = "authentication_failed"
    /// A request arrived on a SASL connection whose session had expired without re-authentication (KIP-368).
    case sessionExpired = "session_expired"
}
