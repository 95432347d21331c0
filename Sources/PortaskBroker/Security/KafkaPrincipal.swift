/// Who a connection acts as: Kafka's `KafkaPrincipal` (`User:alice`). `User:ANONYMOUS` on listeners without
/// authentication. A value; thread-safe.
public struct KafkaPrincipal: Sendable, Hashable, CustomStringConvertible {
    public var type: String
    public var name: String

    public init(type: String = "User", name: String) {
        self.type = type
        self.name = name
    }

    public static let anonymous = KafkaPrincipal(name: "ANONYMOUS")

    /// Parses `Type:name` (the name may contain colons); `nil` when there is no type.
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        self.init(type: String(text[..<colon]), name: String(text[text.index(after: colon)...]))
    }

    public var description: String { "\(type):\(name)" }
}
