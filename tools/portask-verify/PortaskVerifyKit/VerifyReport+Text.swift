import Foundation

extension VerifyReport {
    /// The human summary: status line, counts, then damage, warnings and repairs one per line.
    public var text: String {
        var lines: [String] = []
        var warningText = warnings.isEmpty ? "" : ", \(warnings.count) warning\(warnings.count == 1 ? "" : "s")"
        if !notes.isEmpty { warningText += ", \(notes.count) note\(notes.count == 1 ? "" : "s")" }
        switch status {
        case "clean": lines.append("CLEAN: no damage found\(warningText)")
        case "repaired": lines.append("REPAIRED: \(damage.count) damage found and repaired\(warningText)")
        default: lines.append("DAMAGED: \(damage.count) damage found\(warningText)")
        }
        let t = totals
        var checked: [String] = []
        if t.dataDirectories > 0 { checked.append(Self.count(t.dataDirectories, "data directory", "data directories")) }
        if t.partitions > 0 { checked.append(Self.count(t.partitions, "partition")) }
        checked.append(Self.count(t.segments, "segment"))
        checked.append(Self.count(t.batches, "batch", "batches")
                       + " (\(Self.count(Int(t.records), "record")), \(ProgressBar.formatBytes(Int(t.logBytes))))")
        checked.append(Self.count(t.offsetIndexEntries, "offset index entry", "offset index entries"))
        checked.append(Self.count(t.timeIndexEntries, "time index entry", "time index entries"))
        if t.checkpoints > 0 { checked.append(Self.count(t.checkpoints, "checkpoint file")) }
        if t.producerSnapshots > 0 { checked.append(Self.count(t.producerSnapshots, "producer snapshot")) }
        lines.append("checked " + checked.joined(separator: ", "))
        if !damage.isEmpty {
            lines.append("damage:")
            lines += damage.map { "  " + Self.line($0) }
        }
        if !notes.isEmpty {
            lines.append("notes (repaired by the broker on start, no data lost):")
            lines += notes.map { "  " + Self.line($0) }
        }
        if !warnings.isEmpty {
            lines.append("warnings:")
            lines += warnings.map { "  \($0.file): \($0.message)" }
        }
        if let repairs {
            lines.append(repairs.isEmpty ? "repairs: none needed" : "repairs:")
            lines += repairs.map { "  \($0.action) \($0.path): \($0.message)" }
        }
        if let remainingDamage {
            if remainingDamage.isEmpty {
                lines.append("after repair: clean")
            } else {
                lines.append("after repair, \(remainingDamage.count) damage remain (not repairable):")
                lines += remainingDamage.map { "  " + Self.line($0) }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    static func line(_ damage: Damage) -> String {
        var location = damage.file
        if let position = damage.position { location += " @\(position)" }
        if let offset = damage.offset { location += " (offset \(offset))" }
        return "\(damage.kind.rawValue) \(location): \(damage.message)" + (damage.repairable ? " [repairable]" : "")
    }

    static func count(_ value: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(value) " + (value == 1 ? singular : plural ?? singular + "s")
    }
}
