import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

struct IndexCheckTests {
    @Test func preallocatedIndexTail_isANoteNotDamage_repairedByRebuild() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        try Damager.modify(segmentPath(partition, 48, ".index")) { $0 += [UInt8](repeating: 0, count: 8 * 1000) }
        try Damager.modify(segmentPath(partition, 48, ".timeindex")) { $0 += [UInt8](repeating: 0, count: 12 * 1000) }
        let report = try Verifier().verify([partition])
        #expect(report.damage.isEmpty)
        #expect(report.exitStatus == 0)
        #expect(report.notes.count == 2)
        #expect(report.notes.allSatisfy { $0.message.contains("1000 zero-filled entries") && $0.repairedOnStart })
        #expect(try report.json().contains("\"repairedOnStart\" : true"))
        try expectNotedRepairedClean([partition], .indexZeroFilled)
    }

    @Test func preallocatedIndexTail_besideRealDamage_stillExitsOne() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        try Damager.modify(segmentPath(partition, 48, ".index")) { $0 += [UInt8](repeating: 0, count: 8 * 10) }
        try Damager.modify(segmentPath(partition, 48, ".log")) { $0.removeLast(10) }
        let report = try Verifier().verify([partition])
        #expect(report.damageKinds.contains(.tornTail) && !report.damageKinds.contains(.indexZeroFilled))
        #expect(report.notes.map(\.kind) == [.indexZeroFilled])
        #expect(report.exitStatus == 1)
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
