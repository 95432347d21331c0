import Foundation
import LogEngine
import Testing
@testable import PortaskVerifyKit

/// Positions of the batches in a `.log` file.
func batchPositions(_ path: String) throws -> [(position: Int, header: RecordBatchHeader)] {
    let bytes = try Damager.read(path)
    return try bytes.withUnsafeBytes { raw in
        var result: [(Int, RecordBatchHeader)] = []
        var position = 0
        while position + RecordBatchHeader.size <= raw.count {
            let header = try RecordBatchHeader(parsing: raw, at: position)
            result.append((position, header))
            position += header.totalSize
        }
        return result
    }
}

func segmentPath(_ directory: String, _ base: Int64, _ suffix: String) -> String {
    directory + "/" + LogSegment.fileName(base, suffix: suffix)
}

/// Verifies `paths`: `kind` is found (exit 1, named in the JSON), `--repair` fixes everything, a second run is clean.
func expectFoundRepairedClean(_ paths: [String], _ kind: Damage.Kind, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let verifier = Verifier()
    let first = try verifier.verify(paths)
    #expect(first.damageKinds.contains(kind), "\(first.text)", sourceLocation: sourceLocation)
    #expect(first.exitStatus == 1, sourceLocation: sourceLocation)
    #expect(try first.json().contains("\"kind\" : \"\(kind.rawValue)\""), sourceLocation: sourceLocation)
    let repaired = try verifier.verifyAndRepair(paths)
    #expect(repaired.status == "repaired", "\(repaired.text)", sourceLocation: sourceLocation)
    #expect(repaired.remainingDamage == [], sourceLocation: sourceLocation)
    #expect(repaired.repairs?.isEmpty == false, sourceLocation: sourceLocation)
    let second = try verifier.verify(paths)
    #expect(second.isClean, "\(second.text)", sourceLocation: sourceLocation)
    #expect(second.exitStatus == 0, sourceLocation: sourceLocation)
}

/// Like `expectFoundRepairedClean` for what the broker repairs on start: reported as a note of `kind` (exit
/// status 0, no damage), repaired by `--repair`, then gone.
func expectNotedRepairedClean(_ paths: [String], _ kind: Damage.Kind, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let verifier = Verifier()
    let first = try verifier.verify(paths)
    #expect(first.notes.contains { $0.kind == kind && $0.repairedOnStart }, "\(first.text)", sourceLocation: sourceLocation)
    #expect(first.isClean, "\(first.text)", sourceLocation: sourceLocation)
    #expect(first.exitStatus == 0, sourceLocation: sourceLocation)
    #expect(try first.json().contains("\"kind\" : \"\(kind.rawValue)\""), sourceLocation: sourceLocation)
    #expect(first.text.contains("repaired by the broker on start"), sourceLocation: sourceLocation)
    let repaired = try verifier.verifyAndRepair(paths)
    #expect(repaired.remainingDamage == [], sourceLocation: sourceLocation)
    #expect(repaired.repairs?.isEmpty == false, "\(repaired.text)", sourceLocation: sourceLocation)
    let second = try verifier.verify(paths)
    #expect(second.isClean && second.notes.isEmpty, "\(second.text)", sourceLocation: sourceLocation)
}

func batchPositionsOf(_ log: [UInt8]) throws -> [Int] {
    try log.withUnsafeBytes { raw in
        var positions: [Int] = []
        var position = 0
        while position < raw.count {
            positions.append(position)
            position += try RecordBatchHeader(parsing: raw, at: position).totalSize
        }
        return positions
    }
}
