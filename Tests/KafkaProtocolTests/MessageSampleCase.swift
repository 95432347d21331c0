import KafkaProtocol
import NIOCore
import Testing

/// One generated message type with a builder of populated sample values, checked generically.
struct MessageSampleCase: Sendable, CustomStringConvertible {
    let name: String
    let versions: ClosedRange<Int16>
    let check: @Sendable (_ version: Int16, _ seed: Int) throws -> Int

    init<Message: KafkaMessage>(_ type: Message.Type, sample: @escaping @Sendable (Int16, Int) -> Message) {
        name = "\(Message.self)"
        versions = Message.validVersions
        check = { version, seed in try RoundTrip.verify(sample(version, seed), version: version) }
    }

    var description: String { name }
}

enum RoundTrip {
    /// Encodes `value`, decodes it back and re-encodes it: the value must come back equal and the bytes identical,
    /// with nothing left over. Returns the encoded size.
    static func verify<Message: KafkaMessage>(_ value: Message, version: Int16) throws -> Int {
        let bytes = try value.encoded(version: version)
        var reading = bytes
        let decoded = try Message.decode(from: &reading, version: version)
        #expect(reading.readableBytes == 0, "\(Message.self) v\(version): \(reading.readableBytes) bytes left")
        #expect(decoded == value, "\(Message.self) v\(version) decodes to a different value")
        let again = try decoded.encoded(version: version)
        #expect(again == bytes, "\(Message.self) v\(version) re-encodes to different bytes")
        return bytes.readableBytes
    }
}
