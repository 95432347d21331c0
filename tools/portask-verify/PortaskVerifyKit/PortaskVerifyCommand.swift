import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `portask-verify` command line: `check` (the default subcommand) and `dump`.
///
/// Exit status: 0 clean, 1 damage found, 2 usage or I/O error (`PortaskVerifyCommand.main(arguments:)` maps
/// ArgumentParser's errors to 2).
/// Thread-safety: each run is independent; output goes to the process's standard output and error.
public struct PortaskVerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "portask-verify",
        abstract: "Check (and repair) the data files of a stopped Portask or Apache Kafka broker.",
        discussion: """
            PATH is a data directory, a partition directory (<topic>-<partition>) or segment files \
            (.log, .index, .timeindex). Exit status: 0 clean, 1 damage found, 2 usage or I/O error. What the \
            broker repairs by itself on start (zero-filled index tails after an unclean stop) is a note, not damage.
            """,
        subcommands: [Check.self, Dump.self],
        defaultSubcommand: Check.self)

    public init() {}

    /// Runs the command line `arguments` (without the program name) and returns the exit status.
    public static func main(arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let error as VerifyError {
            ProgressBar.writeStderr("portask-verify: \(error)\n")
            return 2
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            let message = fullMessage(for: error)
            if exitCode(for: error) == .success {
                let output = StandardOutput()
                output.write(message + "\n")
                return 0
            }
            ProgressBar.writeStderr(message + "\n")
            return 2
        }
    }
}

extension PortaskVerifyCommand {
    /// `portask-verify [check] [--json] [--repair] [--deep] [--[no-]progress] PATH...`
    public struct Check: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Verify batches, indexes and checkpoints; with --repair, fix what recovery can fix.")

        @Flag(help: "Print the report as JSON.")
        var json = false

        @Flag(help: "Truncate torn or corrupt tails, rebuild indexes and fix checkpoints (broker stopped!).")
        var repair = false

        @Flag(help: "Also decode every record (decompressing) and compare with its batch header.")
        var deep = false

        @Flag(inversion: .prefixedNo, help: ArgumentHelp(
            "Progress bar on standard error, drawn only when it is a terminal.",
            discussion: "By default drawn for inputs of 64 MiB or more; --progress draws it for any size."))
        var progress: Bool? = nil

        @Argument(help: "Data directory, partition directory or segment files.")
        var paths: [String] = []

        public init() {}

        public func run() throws {
            guard !paths.isEmpty else { throw ValidationError("give at least one PATH") }
            let verifier = Verifier(deep: deep)
            let total = paths.reduce(0) { $0 + Directory.logBytes(under: $1) }
            let enabled = progress.map { $0 && isatty(2) == 1 }
            let bar = ProgressBar(total: total, enabled: enabled)
            let report = repair ? try verifier.verifyAndRepair(paths, progress: bar)
                                : try verifier.verify(paths, progress: bar)
            let output = StandardOutput()
            output.write(json ? try report.json() : report.text)
            output.flush()
            if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
        }
    }

    /// `portask-verify dump [--print-data-log | --deep-iteration] [--json] PATH...`
    public struct Dump: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "dump",
            abstract: "Print batches and records of segment files, like Kafka's kafka-dump-log.sh.")

        @Flag(name: [.customLong("print-data-log"), .customShort("d")],
              help: "Print every record with its key, value and headers (decompressing).")
        var printDataLog = false

        @Flag(help: "Print every record without keys and values.")
        var deepIteration = false

        @Flag(help: "One JSON object per batch or index entry (JSON Lines).")
        var json = false

        @Argument(help: ".log, .index or .timeindex files, or partition directories.")
        var paths: [String] = []

        public init() {}

        public func run() throws {
            guard !paths.isEmpty else { throw ValidationError("give at least one PATH") }
            let detail: Dumper.Detail = printDataLog ? .data : deepIteration ? .records : .batches
            let output = StandardOutput()
            defer { output.flush() }
            var stream = output
            try Dumper(detail: detail, json: json).dump(paths, to: &stream)
        }
    }
}
