import Foundation
import KafkaProtocol
import Logging
import Testing
@testable import PortaskBroker

/// The README's compatibility table must list exactly the APIs and versions ApiVersions advertises.
struct CompatibilityTableTests {
    static let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    /// Rows of the form `| Name | key | low–high | notes |` under the "Compatibility" heading.
    static func tableRows() throws -> [String: (key: Int16, versions: ClosedRange<Int16>)] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let start = text.range(of: "## Compatibility") else { return [:] }
        var rows: [String: (Int16, ClosedRange<Int16>)] = [:]
        for line in text[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("## ") { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, let key = Int16(cells[1]) else { continue }
            let bounds = cells[2].split(whereSeparator: { $0 == "–" || $0 == "-" }).compactMap { Int16($0) }
            guard let low = bounds.first, let high = bounds.last else { continue }
            rows[cells[0]] = (key, low...high)
        }
        return rows
    }

    @Test func readmeTable_matchesTheServedVersions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portask-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try Broker(config: BrokerConfig(properties: ["log.dirs": directory]), logger: Logger(label: "test"))
        let served = broker.makeRouter().supportedVersions
        let rows = try Self.tableRows()
        #expect(rows.count == served.count, "README lists \(rows.count) APIs, the broker serves \(served.count)")
        for (apiKey, versions) in served {
            let row = rows[apiKey.name]
            #expect(row?.key == apiKey.rawValue, "README row for \(apiKey.name) is missing or has the wrong key")
            #expect(row?.versions == versions, "README says \(apiKey.name) \(String(describing: row?.versions)), served \(versions)")
        }
    }
}
