/// One entry of Kafka's inline JAAS syntax (`sasl.jaas.config`):
/// `com.example.LoginModule required key="value" key2=value2;`. Values may be quoted with `"` (with `\`
/// escapes) or bare. A value; thread-safe.
public struct JaasConfig: Sendable, Equatable {
    public var loginModule: String
    /// `required`, `requisite`, `sufficient` or `optional`.
    public var controlFlag: String
    public var options: [String: String]

    /// Parses one login-module entry; throws a configuration error naming the problem.
    public init(parsing text: String) throws {
        var scanner = Scanner(Array(text.unicodeScalars))
        guard let module = scanner.word(), let flag = scanner.word() else {
            throw BrokerError(.configuration, "Invalid JAAS config: expected 'LoginModule flag option=value ... ;'")
        }
        guard ["required", "requisite", "sufficient", "optional"].contains(flag.lowercased()) else {
            throw BrokerError(.configuration, "Invalid JAAS config: invalid control flag '\(flag)'")
        }
        loginModule = module
        controlFlag = flag.lowercased()
        options = [:]
        while true {
            scanner.skipSpaces()
            if scanner.peek() == ";" {
                scanner.advance()
                scanner.skipSpaces()
                guard scanner.atEnd else {
                    throw BrokerError(.configuration, "Invalid JAAS config: only one login module may be configured")
                }
                return
            }
            guard let key = scanner.word(stoppingAt: "="), scanner.peek() == "=" else {
                throw BrokerError(.configuration, "Invalid JAAS config: expected option=value or ';'")
            }
            scanner.advance()
            guard let value = try scanner.value() else {
                throw BrokerError(.configuration, "Invalid JAAS config: option '\(key)' has no value")
            }
            options[key] = value
        }
    }

    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { index >= scalars.count }
        func peek() -> Unicode.Scalar? { atEnd ? nil : scalars[index] }
        mutating func advance() { index += 1 }
        mutating func skipSpaces() {
            while let scalar = peek(), scalar.properties.isWhitespace { advance() }
        }

        mutating func word(stoppingAt stop: Unicode.Scalar? = nil) -> String? {
            skipSpaces()
            var word = ""
            while let scalar = peek(), !scalar.properties.isWhitespace, scalar != ";", scalar != stop {
                word.unicodeScalars.append(scalar)
                advance()
            }
            return word.isEmpty ? nil : word
        }

        mutating func value() throws -> String? {
            guard peek() == "\"" else { return word() }
            advance()
            var value = ""
            while let scalar = peek() {
                advance()
                if scalar == "\"" { return value }
                if scalar == "\\", let escaped = peek() {
                    advance()
                    value.unicodeScalars.append(escaped)
                } else {
                    value.unicodeScalars.append(scalar)
                }
            }
            throw BrokerError(.configuration, "Invalid JAAS config: unterminated quoted value")
        }
    }
}
