import Foundation

/// Kafka's `ssl.principal.mapping.rules`: maps a certificate subject (RFC 2253, e.g. `CN=alice,O=Example`) to a
/// user name. Rules are tried in order: `RULE:pattern/replacement/` with an optional `L` or `U` suffix (lower-
/// or upper-case the result) applies when the regular expression matches the whole subject; `DEFAULT` yields
/// the subject unchanged. When no rule applies the mapping fails (the connection is closed, as Kafka does).
/// Immutable; thread-safe.
public struct SslPrincipalMapper: Sendable {
    enum Rule: @unchecked Sendable {
        case `default`
        case pattern(NSRegularExpression, replacement: String, caseChange: Character?)
    }

    let rules: [Rule]

    /// Parses the rules; throws Kafka's configuration error on text that is not a rule list.
    public init(rules text: String) throws {
        let parser = try NSRegularExpression(
            pattern: #"\s*((DEFAULT)|RULE:((?:[^/\\]|\\.)*)/((?:[^/\\]|\\.)*)/([LU])?)\s*(,|$)"#)
        var rules: [Rule] = []
        let source = text as NSString
        var location = 0
        while location < source.length {
            guard let match = parser.firstMatch(in: text, options: .anchored, range: NSRange(location: location, length: source.length - location)),
                match.range.length > 0
            else {
                throw BrokerError(.configuration, "Invalid rule: \(source.substring(from: location))")
            }
            if match.range(at: 2).location != NSNotFound {
                rules.append(.default)
            } else {
                let pattern = source.substring(with: match.range(at: 3))
                let replacement = source.substring(with: match.range(at: 4))
                let caseChange = match.range(at: 5).location == NSNotFound ? nil : source.substring(with: match.range(at: 5)).first
                do {
                    rules.append(.pattern(try NSRegularExpression(pattern: pattern), replacement: replacement, caseChange: caseChange))
                } catch {
                    throw BrokerError(.configuration, "Invalid rule pattern: \(pattern)")
                }
            }
            location = match.range.location + match.range.length
        }
        if rules.isEmpty { rules = [.default] }
        self.rules = rules
    }

    /// The user name for `subject`, or `nil` when no rule applies.
    public func name(for subject: String) -> String? {
        let range = NSRange(location: 0, length: (subject as NSString).length)
        for rule in rules {
            switch rule {
            case .default:
                return subject
            case .pattern(let expression, let replacement, let caseChange):
                guard let match = expression.firstMatch(in: subject, range: range), match.range == range else { continue }
                var result = expression.replacementString(for: match, in: subject, offset: 0, template: replacement)
                if caseChange == "L" { result = result.lowercased() }
                if caseChange == "U" { result = result.uppercased() }
                return result
            }
        }
        return nil
    }
}
