/// A range of message versions as written in Kafka's schemas: "none", "3", "0-5" or "4+".
public struct VersionRange: Equatable, Sendable {
    public var lowest: Int16
    /// `nil` means open-ended.
    public var highest: Int16?
    public var isEmpty: Bool

    public static let none = VersionRange(lowest: 0, highest: -1, isEmpty: true)
    public static let all = VersionRange(lowest: 0, highest: nil, isEmpty: false)

    public init(lowest: Int16, highest: Int16?, isEmpty: Bool = false) {
        self.lowest = lowest
        self.highest = highest
        self.isEmpty = isEmpty
    }

    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "none" || trimmed.isEmpty {
            self = .none
        } else if trimmed.hasSuffix("+"), let low = Int16(trimmed.dropLast()) {
            self.init(lowest: low, highest: nil)
        } else if let dash = trimmed.firstIndex(of: "-"),
            let low = Int16(trimmed[..<dash]), let high = Int16(trimmed[trimmed.index(after: dash)...])
        {
            self.init(lowest: low, highest: high)
        } else if let single = Int16(trimmed) {
            self.init(lowest: single, highest: single)
        } else {
            throw CodegenError("cannot parse version range '\(text)'")
        }
    }

    public func contains(_ version: Int16) -> Bool {
        !isEmpty && version >= lowest && (highest.map { version <= $0 } ?? true)
    }

    /// The part of this range inside `other`.
    public func intersection(_ other: VersionRange) -> VersionRange {
        if isEmpty || other.isEmpty { return .none }
        let low = max(lowest, other.lowest)
        let high: Int16?
        switch (highest, other.highest) {
        case (nil, nil): high = nil
        case (let a?, nil): high = a
        case (nil, let b?): high = b
        case (let a?, let b?): high = min(a, b)
        }
        if let high, high < low { return .none }
        return VersionRange(lowest: low, highest: high)
    }

    /// True when every version of `valid` in this range is also in `other`.
    public func isSubset(of other: VersionRange, within valid: VersionRange) -> Bool {
        let mine = intersection(valid)
        if mine.isEmpty { return true }
        return mine.intersection(other) == mine
    }

    /// A Swift boolean expression over `version` that is true exactly for the versions of this range inside `valid`.
    public func condition(within valid: VersionRange, variable: String = "version") -> String {
        let effective = intersection(valid)
        if effective.isEmpty { return "false" }
        if effective == valid { return "true" }
        var parts: [String] = []
        if effective.lowest > valid.lowest { parts.append("\(variable) >= \(effective.lowest)") }
        if let high = effective.highest, high < (valid.highest ?? Int16.max) {
            parts.append("\(variable) <= \(high)")
        }
        return parts.isEmpty ? "true" : parts.joined(separator: " && ")
    }
}

/// The generator's error: a schema it cannot understand.
public struct CodegenError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
