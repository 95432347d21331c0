import Foundation
import LogEngine
import NIOCore
import Testing
@testable import PortaskVerifyKit

struct LeaderEpochCheckpointCheckTests {
    @Test func kafkasLeaderEpochCheckpoint_isChecked_andAMalformedOneMovedAside() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path)
        let path = partition + "/leader-epoch-checkpoint"
        // Every fixture batch carries epoch 0; epoch 3 begins at the log end (72), as after a leader change.
        try Damager.write(Array("0\n2\n0 0\n3 72\n".utf8), path)
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

    @Test func leaderEpochCheckpoint_thatDisagreesWithTheBatches_isDamage() throws {
        let directory = TemporaryDirectory()
        let partition = directory.path + "/epochs-0"
        let log = try PartitionLog(directory: partition)
        try log.append(ByteBuffer(bytes: RecordBatchEncoder(baseTimestamp: 1).build(count: 2) { _ in [1] }))
        try log.becomeLeader(epoch: 3)
        try log.append(ByteBuffer(bytes: RecordBatchEncoder(baseTimestamp: 2).build(count: 2) { _ in [2] }))
        try log.close()
        let clean = try Verifier().verify([partition])
        #expect(clean.isClean, "\(clean.text)")
        // The batches at offsets 2–3 carry epoch 3, which this checkpoint does not know.
        try Damager.write(Array("0\n1\n0 0\n".utf8), partition + "/leader-epoch-checkpoint")
        #expect(try Verifier().verify([partition]).damageKinds == [.badCheckpoint])
        try Damager.write(Array("0\n2\n0 0\n2 2\n".utf8), partition + "/leader-epoch-checkpoint")
        #expect(try Verifier().verify([partition]).damageKinds == [.badCheckpoint])
    }
}
