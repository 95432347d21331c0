import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

struct TransactionIndexCheckTests {
    static func entry(producerId: Int64, first: Int64, last: Int64, lastStable: Int64, version: Int64 = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        KafkaBatch.int(version, 2, &bytes)
        KafkaBatch.int(producerId, 8, &bytes)
        KafkaBatch.int(first, 8, &bytes)
        KafkaBatch.int(last, 8, &bytes)
        KafkaBatch.int(lastStable, 8, &bytes)
        return bytes
    }

    @Test func kafkasAbortedTransactionIndex_isChecked_notRepairable() throws {
        let directory = TemporaryDirectory()
        let (partition, _) = try makeKafkaPartition(in: directory.path, segments: 2)
        let path = segmentPath(partition, 24, ".txnindex")
        try Damager.write(Self.entry(producerId: 4, first: 25, last: 30, lastStable: 31)
                          + Self.entry(producerId: 5, first: 32, last: 40, lastStable: 41), path)
        #expect(try Verifier().verify([partition]).isClean)
        try Damager.write(Self.entry(producerId: 4, first: 25, last: 30, lastStable: 31)
                          + Self.entry(producerId: 5, first: 32, last: 90, lastStable: 91)
                          + Self.entry(producerId: 6, first: 32, last: 20, lastStable: 91, version: 3) + [0], path)
        let report = try Verifier().verify([partition])
        #expect(report.damageKinds == [.txnIndexInvalid] && report.damage.count == 3)
        #expect(report.damage.allSatisfy { !$0.repairable })
    }
}
