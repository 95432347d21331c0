import Foundation
import KafkaProtocol
import NIOCore

/// Evaluates manifest paths such as `topicData[0].partitionData[0].index`, `topics.count` or
/// `records.byteLength` against decoded values by reflection, and compares them with JSON values.
enum GoldenValuePath {
    static func unwrap(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first.map { unwrap($0.value) } ?? nil
    }

    /// The value at `path` under `root`; `.some(nil)` is a present null, `nil` a path that does not resolve.
    static func value(at path: String, in root: Any) -> Any?? {
        var current: Any? = root
        for segment in path.split(separator: ".") {
            guard let value = current.flatMap(unwrap) else { return nil }
            var name = Substring(segment)
            var index: Int?
            if let open = segment.firstIndex(of: "["), segment.hasSuffix("]") {
                name = segment[..<open]
                index = Int(segment[segment.index(after: open)..<segment.index(before: segment.endIndex)])
            }
            switch name {
            case "count" where index == nil:
                guard let array = value as? [Any] else { return nil }
                current = array.count
                continue
            case "byteLength" where index == nil:
                if let buffer = value as? ByteBuffer { current = buffer.readableBytes; continue }
                if let records = value as? RecordSet { current = records.byteCount; continue }
                return nil
            default:
                break
            }
            guard let child = Mirror(reflecting: value).children.first(where: { $0.label == String(name) }) else {
                return nil
            }
            current = unwrap(child.value)
            if let index {
                guard let array = current as? [Any], array.indices.contains(index) else { return nil }
                current = array[index]
            }
        }
        return .some(current.flatMap(unwrap))
    }

    /// True when a decoded `actual` equals the JSON `expected` (numbers, booleans, strings, null, UUID hex).
    static func matches(_ actual: Any?, _ expected: Any) -> Bool {
        if expected is NSNull { return actual == nil }
        guard let actual else { return false }
        if let uuid = actual as? KafkaUUID, let text = expected as? String {
            return String(format: "%016llx%016llx", uuid.high, uuid.low) == text
        }
        if let string = actual as? String { return (expected as? String) == string }
        if let bool = actual as? Bool { return (expected as? NSNumber)?.boolValue == bool || (expected as? Bool) == bool }
        if let double = actual as? Double { return (expected as? NSNumber)?.doubleValue == double }
        if let integer = actual as? any BinaryInteger {
            guard let number = expected as? NSNumber else { return false }
            return Int64(integer) == number.int64Value
        }
        return false
    }
}
