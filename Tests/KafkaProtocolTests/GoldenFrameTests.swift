import Foundation
import KafkaProtocol
import NIOCore
import Testing

/// Request frames captured from librdkafka 2.16 (confluent-kafka), librdkafka 2.0.2 (kcat) and kafka-python
/// (see Fixtures/golden/CAPTURE.md) decode to the values the manifest records, and re-encode to the same bytes.
struct GoldenFrameTests {
    struct Entry: CustomStringConvertible, Sendable {
        let file: String
        let apiKey: Int16
        let apiVersion: Int16
        let correlationId: Int32
        let clientId: String
        let trailingBytes: Int
        let expect: [String: any Sendable]
        let embedded: [String: [String: any Sendable]]
        var description: String { file }
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("golden")

    static let entries: [Entry] = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
            let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return list.map { item in
            Entry(
                file: item["file"] as? String ?? "",
                apiKey: Int16((item["apiKey"] as? NSNumber)?.intValue ?? -1),
                apiVersion: Int16((item["apiVersion"] as? NSNumber)?.intValue ?? -1),
                correlationId: Int32((item["correlationId"] as? NSNumber)?.intValue ?? -1),
                clientId: item["clientId"] as? String ?? "",
                trailingBytes: (item["trailingBytes"] as? NSNumber)?.intValue ?? 0,
                expect: (item["expect"] as? [String: Any] ?? [:]).mapValues { sendable($0) },
                embedded: (item["embedded"] as? [String: [String: Any]] ?? [:]).mapValues { $0.mapValues { sendable($0) } })
        }
    }()

    private static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let string as String: return string
        case let number as NSNumber: return number.int64Value == 0 && number.doubleValue != 0 ? number.doubleValue : number.int64Value
        case is NSNull: return Optional<Int>.none as Int?
        default: return "\(value)"
        }
    }

    private static func matches(_ actual: Any?, _ expected: any Sendable) -> Bool {
        if let optional = expected as? Int?, optional == nil { return actual == nil }
        if let number = expected as? Int64 { return GoldenValuePath.matches(actual, NSNumber(value: number)) }
        if let number = expected as? Double { return GoldenValuePath.matches(actual, NSNumber(value: number)) }
        return GoldenValuePath.matches(actual, expected)
    }

    @Test func manifest_coversTheRequiredApisForEachClient() {
        let required: Set<String> = [
            "ApiVersions", "Metadata", "Produce", "Fetch", "FindCoordinator", "JoinGroup", "SyncGroup", "OffsetCommit",
        ]
        let byClient = Dictionary(grouping: Self.entries) { $0.file.split(separator: "/").first.map(String.init) ?? "" }
        #expect(byClient.count == 3)
        for (client, entries) in byClient {
            let apis = Set(entries.compactMap { ApiKey(rawValue: $0.apiKey)?.name })
            #expect(required.isSubset(of: apis), "\(client) lacks \(required.subtracting(apis))")
        }
    }

    @Test(arguments: entries)
    func frame_decodesToTheCapturedValuesAndReencodesIdentically(_ entry: Entry) throws {
        let bytes = try Data(contentsOf: Self.directory.appendingPathComponent(entry.file))
        let frame = ByteBuffer(bytes: bytes)
        let request = try KafkaRequest.decode(frame: frame)
        #expect(request.apiKey.rawValue == entry.apiKey)
        #expect(request.header.apiVersion == entry.apiVersion)
        #expect(request.header.correlationId == entry.correlationId)
        #expect(request.header.clientId == entry.clientId)
        #expect(!entry.expect.isEmpty)
        for (path, expected) in entry.expect {
            guard let actual = GoldenValuePath.value(at: path, in: request.body) else {
                Issue.record("\(entry.file): path \(path) does not resolve")
                continue
            }
            #expect(Self.matches(actual, expected), "\(entry.file): \(path) is \(String(describing: actual)), expected \(expected)")
        }
        for (path, expectations) in entry.embedded {
            try checkEmbedded(entry, path: path, in: request.body, expectations: expectations)
        }
        // Re-encoding the decoded request gives back the client's exact bytes (less ignored trailing bytes).
        let reencoded = try reencode(request)
        #expect(Array(reencoded.readableBytesView) == Array(bytes.dropLast(entry.trailingBytes)))
    }

    private func reencode(_ request: KafkaRequest) throws -> ByteBuffer {
        func frame<Body: KafkaRequestMessage>(_ body: Body) throws -> ByteBuffer {
            var writer = KafkaWriter()
            try request.header.encode(to: &writer, headerVersion: Body.apiKey.requestHeaderVersion(request.header.apiVersion))
            try body.checkedEncode(to: &writer, version: request.header.apiVersion)
            return writer.buffer
        }
        return try frame(request.body)
    }

    /// Consumer-protocol subscription and assignment bytes carry a 2-byte version, then that version's body.
    private func checkEmbedded(
        _ entry: Entry, path: String, in body: any KafkaRequestMessage, expectations: [String: any Sendable]
    ) throws {
        guard case .some(.some(let value)) = GoldenValuePath.value(at: path, in: body), var bytes = value as? ByteBuffer else {
            Issue.record("\(entry.file): \(path) holds no bytes")
            return
        }
        let versionPrefix = bytes.readInteger(as: Int16.self)
        let version = try #require(versionPrefix)
        let decoded: Any = path.hasSuffix("assignment")
            ? try ConsumerProtocolAssignment.decode(from: &bytes, version: version)
            : try ConsumerProtocolSubscription.decode(from: &bytes, version: version)
        for (subpath, expected) in expectations where subpath != "trailingBytes" {
            if subpath == "version" {
                #expect(Self.matches(version, expected))
                continue
            }
            let actual = GoldenValuePath.value(at: subpath, in: decoded)
            #expect(actual != nil && Self.matches(actual!, expected), "\(entry.file): \(path) → \(subpath)")
        }
    }
}
