/// Something unusual that is not damage (the broker handles it on start-up): a missing index, leftovers of an
/// interrupted deletion, a checkpoint entry for a partition that does not exist.
///
/// Thread-safety: a value type.
public struct Warning: Sendable, Equatable, Codable {
    public var file: String
    public var message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
}
