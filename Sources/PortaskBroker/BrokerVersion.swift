/// Version information of the Portask broker.
public enum BrokerVersion {
    /// The software version reported by `portaskd --version`.
    public static let string = "0.1.0"
}
