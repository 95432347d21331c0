/// The one error type of PortaskVerifyKit: a usage or I/O problem that stops the tool (exit status 2), as
/// opposed to damage in the files it checks, which is reported as `Damage`.
///
/// Thread-safety: a value type.
public struct VerifyError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The arguments name nothing that can be checked.
        case usage
        /// A file or directory could not be read or written.
        case io
    }

    public var code: Code
    public var message: String
    public var context: String

    public init(_ code: Code, _ message: String, context: String = "") {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { context.isEmpty ? message : "\(message): \(context)" }
}
