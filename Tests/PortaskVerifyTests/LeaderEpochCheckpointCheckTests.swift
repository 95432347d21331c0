import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

struct LeaderEpochCheckpointCheckTests {
    @Test func kafkasLeaderEpochCheckpoint_isChecked_andAMalformedOneMovedAside() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let path = partition + "/leader-epoch-checkpoint"
        try Damager.write(Array("0\n2\n0 0\n3 30\n".utf8), path)
        let clean = try Verifier().verify([directory.path])
        #expect(clean.isClean && clean.warnings.count == 1 && clean.totals.checkpoints == 1)  // no meta.properties
        try Damager.write(Array("0\n2\n3 30\n1 40\n".utf8), path)
        try expectFoundRepairedClean([directory.path], .badCheckpoint)
        #expect(FileManager.default.fileExists(atPath: path + ".corrupt"))
        try Damager.write(Array("0\n1\nnot numbers\n".utf8), path)
        try expectFoundRepairedClean([partition], .badCheckpoint)
    }

    @Test func leaderEpochCheckpoint_whenCountIsIntMax_isDamageNotATrap() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let path = partition + "/leader-epoch-checkpoint"
        for count in ["\(Int.max)", "\(Int.max - 1)", "99999999999999999999999"] {
            try Damager.write(Array("0\n\(count)\n0 0\n".utf8), path)
            let report = try Verifier().verify([partition])
            #expect(report.damageKinds == [.badCheckpoint], "\(report.text)")
        }
    }
}
