import Foundation

/// JSON coding of gateway messages. Stateless; safe from any thread.
enum EtcdJSON {
    static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        do {
            return [UInt8](try JSONEncoder().encode(value))
        } catch {
            throw EtcdError(.invalidArgument, "cannot encode request: \(error)")
        }
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw EtcdError(.malformedResponse, "cannot decode \(Value.self): \(error)")
        }
    }
}
