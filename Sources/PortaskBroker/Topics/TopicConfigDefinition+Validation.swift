/// Parsing and validation of values, with Kafka's `ConfigDef` messages
/// (`Invalid value <v> for configuration <name>: <reason>`).
extension TopicConfigDefinition {
    /// A parsed value of one of the config types.
    enum Parsed: Sendable, Equatable {
        case int(Int64)
        case double(Double)
        case boolean(Bool)
        case string(String)
        case list([String])
    }

    /// Parses `value` as this config's type, or returns Kafka's message for a value that is not of it.
    func parse(_ value: String) -> Result<Parsed, Problem> {
        let trimmed = value.trimmingWhitespace()
        switch type {
        case .int, .long:
            guard let number = Int64(trimmed), type == .long || Int32(exactly: number) != nil else {
                return .failure(invalid(value, "Not a number of type \(type == .int ? "INT" : "LONG")"))
            }
            return .success(.int(number))
        case .double:
            guard let number = Double(trimmed), number.isFinite else {
                return .failure(invalid(value, "Not a number of type DOUBLE"))
            }
            return .success(.double(number))
        case .boolean:
            switch trimmed.lowercased() {
            case "true": return .success(.boolean(true))
            case "false": return .success(.boolean(false))
            default: return .failure(invalid(value, "Expected value to be either true or false"))
            }
        case .string, .password:
            return .success(.string(trimmed))
        case .list:
            return .success(.list(Self.listItems(trimmed)))
        }
    }

    /// Kafka's message for the first problem of `value` (type, then validator), or `nil` when it is valid.
    public func problem(with value: String) -> String? {
        if case .failure(let problem) = validated(value) { return problem.message }
        return nil
    }

    /// `value` parsed as this config's type and checked by its validator.
    func validated(_ value: String) -> Result<Parsed, Problem> {
        switch parse(value) {
        case .failure(let problem): return .failure(problem)
        case .success(let parsed): return check(parsed, original: value).map { .failure($0) } ?? .success(parsed)
        }
    }

    /// A problem with a value, as Kafka words it.
    struct Problem: Error, Sendable, Equatable {
        var message: String
    }

    private func invalid(_ value: String, _ reason: String) -> Problem {
        Problem(message: "Invalid value \(value) for configuration \(name): \(reason)")
    }

    /// Applies the validator to a parsed value.
    func check(_ parsed: Parsed, original: String) -> Problem? {
        switch (validator, parsed) {
        case (.atLeast(let minimum), .int(let number)) where number < minimum:
            return invalid(original.trimmingWhitespace(), "Value must be at least \(minimum)")
        case (.between(let minimum, _), .int(let number)) where number < minimum:
            return invalid(original.trimmingWhitespace(), "Value must be at least \(minimum)")
        case (.between(_, let maximum), .int(let number)) where number > maximum:
            return invalid(original.trimmingWhitespace(), "Value must be no more than \(maximum)")
        case (.ratio, .double(let number)) where number < 0:
            return invalid(original.trimmingWhitespace(), "Value must be at least 0")
        case (.ratio, .double(let number)) where number > 1:
            return invalid(original.trimmingWhitespace(), "Value must be no more than 1")
        case (.gzipLevel, .int(let level)) where level > 9 || (level < 1 && level != -1):
            return invalid(original.trimmingWhitespace(), "Value must be between 1 and 9 or equal to -1")
        case (.oneOf(let allowed), .string(let string)) where !allowed.contains(string):
            return invalid(string, "String must be one of: \(allowed.joined(separator: ", "))")
        case (.eachOneOf(let allowed), .list(let items)):
            guard let bad = items.first(where: { !allowed.contains($0) }) else { return nil }
            return invalid(bad, "String must be one of: \(allowed.joined(separator: ", "))")
        case (.throttledReplicas, .list(let items)):
            if items == ["*"] || items.allSatisfy(Self.isReplica) { return nil }
            return invalid("[\(items.joined(separator: ", "))]", "\(name) must be the literal '*' or a list of replicas "
                + "in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...")
        default:
            return nil
        }
    }

    /// `partition:broker`, both decimal.
    private static func isReplica(_ item: String) -> Bool {
        let parts = item.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// The items of a list value: comma-separated, trimmed, empty items dropped.
    static func listItems(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}
