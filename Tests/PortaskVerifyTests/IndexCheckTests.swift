import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

struct IndexCheckTests {
    @Test func preallocatedIndexTail_isOneDamage_repairedByRebuild() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        try Damager.modify(segmentPath(partition, 48, ".index")) { $0 += [UInt8](repeating: 0, count: 8 * 1000) }
        try Damager.modify(segmentPath(partition, 48, ".timeindex")) { $0 += [UInt8](repeating: 0, count: 12 * 1000) }
        let report = try Verifier().verify([partition])
        #expect(report.damage.count == 2)
        #expect(report.damage.allSatisfy { $0.message.contains("1000 zero-filled entries") })
        try expectFoundRepairedClean([partition], .indexZeroFilled)
    }

    @Test func emptyDirectoryNamedLikeAPartition_isAPartition() throws {
        let directory = TemporaryDirectory()
        let partition = directory.file("orders-3")
        try FileManager.default.createDirectory(atPath: partition, withIntermediateDirectories: true)
        guard case .partitionDirectory = try Verifier.classify(partition) else {
            Issue.record("not classified as a partition directory")
            return
        }
        guard case .dataDirectory = try Verifier.classify(directory.path) else {
            Issue.record("not classified as a data directory")
            return
        }
    }
}
