import LogEngine

/// Checks data directories, partition directories and single segment files (`.log`, `.index`,
/// `.timeindex`) of a stopped broker, Portask's or Apache Kafka's (the on-disk format is the same), and with
/// `repair` fixes what LogEngine's recovery can fix (see `Repairer`).
///
/// What a path is: a directory holding `.log` files is a partition directory, any other directory a data
/// directory; files are told apart by suffix. An index file is checked against the `.log` file beside it.
///
/// Thread-safety: a value type; one `verify` call reads the files from the calling thread.
public struct Verifier: Sendable {
    /// Decode every record (decompressing) and compare with the batch headers.
    public var deep: Bool

    public init(deep: Bool = false) {
        self.deep = deep
    }

    /// One path given to the verifier, classified.
    enum Target {
        case dataDirectory(String)
        case partitionDirectory(String)
        case logFile(String)
        case offsetIndexFile(String)
        case timeIndexFile(String)
    }

    /// What a check of the paths found, with the per-target details `Repairer` needs.
    struct Findings {
        var report: VerifyReport
        var dataDirectories: [DataDirectoryCheck] = []
        var partitions: [PartitionCheck] = []
        var segmentFiles: [String] = []
    }

    /// Checks `paths`. Throws `VerifyError` for usage and I/O errors; damage is reported, not thrown.
    public func verify(_ paths: [String], progress: ProgressBar? = nil) throws -> VerifyReport {
        try check(paths, progress: progress).report
    }

    /// Checks `paths`, repairs what is repairable, then checks again: the returned report lists the damage
    /// first found, the repairs made and the damage that remains.
    public func verifyAndRepair(_ paths: [String], progress: ProgressBar? = nil) throws -> VerifyReport {
        let findings = try check(paths, progress: progress)
        var report = findings.report
        if report.isClean && report.warnings.isEmpty && report.notes.isEmpty {
            report.repairs = []
            report.remainingDamage = []
            report.updateStatus()
            return report
        }
        report.repairs = try Repairer.repair(findings)
        report.remainingDamage = try check(paths, progress: nil).report.damage
        report.updateStatus()
        return report
    }

    static func classify(_ path: String) throws -> Target {
        guard let isDirectory = Directory.isDirectory(path) else {
            throw VerifyError(.io, "no such file or directory", context: path)
        }
        if isDirectory {
            // Segments make a partition directory; meta.properties, checkpoints or subdirectories a data
            // directory; an empty directory is a partition directory when it is named like one.
            let names = try Directory.list(path)
            if names.contains(where: { $0.hasSuffix(".log") }) { return .partitionDirectory(path) }
            let dataLike = names.contains { name in
                name == "meta.properties" || DataDirectoryCheck.checkpointNames.contains(name)
                    || Directory.isDirectory(path + "/" + name) == true
            }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return !dataLike && TopicPartition(directoryName: name) != nil ? .partitionDirectory(path) : .dataDirectory(path)
        }
        if path.hasSuffix(".log") { return .logFile(path) }
        if path.hasSuffix(".timeindex") { return .timeIndexFile(path) }
        if path.hasSuffix(".index") { return .offsetIndexFile(path) }
        throw VerifyError(.usage, "not a directory, .log, .index or .timeindex file", context: path)
    }

    /// The base offset in a segment file name (`<20 digits>.<suffix>`), nil for other names.
    static func baseOffset(ofSegmentFile path: String) -> Int64? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.firstIndex(of: "."), name.distance(from: name.startIndex, to: dot) == 20 else { return nil }
        return SegmentCheck.parseBaseOffset(name[..<dot])
    }

    /// The `.log` file of the segment an index file belongs to.
    static func logPath(forIndex path: String) -> String {
        guard let dot = path.lastIndex(of: ".") else { return path + ".log" }
        return String(path[..<dot]) + ".log"
    }

    func check(_ paths: [String], progress: ProgressBar?) throws -> Findings {
        guard !paths.isEmpty else { throw VerifyError(.usage, "no path given") }
        let targets = try paths.map(Self.classify)
        var findings = Findings(report: VerifyReport(paths: paths))
        let advance: ((Int) -> Void)? = progress.map { bar in { bar.advance(by: $0) } }
        defer { progress?.finish() }
        for target in targets {
            switch target {
            case .dataDirectory(let path):
                var check = DataDirectoryCheck(directory: path, deep: deep)
                try check.run(progress: advance)
                findings.report.damage += check.damage
                findings.report.warnings += check.warnings
                findings.report.totals.add(check.totals)
                if check.partitions.isEmpty {
                    findings.report.warnings.append(Warning(file: path, "no partition directories found"))
                }
                findings.dataDirectories.append(check)
            case .partitionDirectory(let path):
                var check = PartitionCheck(directory: path, deep: deep)
                try check.run(progress: advance)
                findings.report.damage += check.damage
                findings.report.warnings += check.warnings
                findings.report.totals.add(check.totals)
                findings.partitions.append(check)
            case .logFile(let path):
                let segment = try checkLog(path, progress: advance)
                findings.report.damage += segment.damage
                findings.report.warnings += segment.warnings
                findings.report.totals.segments += 1
                findings.report.totals.batches += segment.batches.count
                findings.report.totals.records += segment.records
                findings.report.totals.logBytes += Int64(segment.fileSize)
                findings.segmentFiles.append(path)
            case .offsetIndexFile(let path), .timeIndexFile(let path):
                let logPath = Self.logPath(forIndex: path)
                guard Directory.exists(logPath) else {
                    throw VerifyError(.usage, "an index file is checked against its .log file, which is missing",
                                      context: logPath)
                }
                let segment = try checkLog(logPath, progress: nil)
                if case .timeIndexFile = target {
                    let result = try IndexCheck.timeIndex(path: path, log: segment)
                    findings.report.damage += result.damage
                    findings.report.totals.timeIndexEntries += result.entries
                } else {
                    let result = try IndexCheck.offsetIndex(path: path, log: segment)
                    findings.report.damage += result.damage
                    findings.report.totals.offsetIndexEntries += result.entries
                }
                findings.segmentFiles.append(path)
            }
        }
        findings.report.separateNotes()
        findings.report.updateStatus()
        return findings
    }

    private func checkLog(_ path: String, progress: ((Int) -> Void)?) throws -> SegmentCheck {
        var segment = SegmentCheck(path: path, baseOffset: Self.baseOffset(ofSegmentFile: path), deep: deep)
        try segment.run(progress: progress)
        return segment
    }
}
