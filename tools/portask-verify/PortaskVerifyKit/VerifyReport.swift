/// What one run of the verifier found (and, with `--repair`, did). Rendered as a human summary
/// (`VerifyReport+Text.swift`) or as JSON:
/// ```
/// {"paths": [...], "status": "clean" | "damaged" | "repaired",
///  "totals": {"dataDirectories", "partitions", "segments", "batches", "records", "logBytes",
///             "offsetIndexEntries", "timeIndexEntries", "checkpoints", "producerSnapshots"},
///  "damage": [Damage...], "notes": [Damage...], "warnings": [Warning...],
///  "repairs": [Repair...], "remainingDamage": [Damage...]}      (the last two only with --repair)
/// ```
/// Thread-safety: a value type.
public struct VerifyReport: Sendable, Codable, Equatable {
    /// Counts of what was checked.
    public struct Totals: Sendable, Codable, Equatable {
        public var dataDirectories = 0
        public var partitions = 0
        public var segments = 0
        public var batches = 0
        public var records: Int64 = 0
        public var logBytes: Int64 = 0
        public var offsetIndexEntries = 0
        public var timeIndexEntries = 0
        public var checkpoints = 0
        public var producerSnapshots = 0

        public init() {}
    }

    /// One action of `--repair`.
    public struct Repair: Sendable, Codable, Equatable {
        /// `recoveredPartition`, `recoveredSegment`, `rewroteCheckpoint` or `movedAsideCheckpoint`.
        public var action: String
        public var path: String
        public var message: String
        /// Bytes cut from logs (torn, corrupt or zero-filled tails and segments after them).
        public var bytesTruncated: Int

        public init(action: String, path: String, message: String, bytesTruncated: Int = 0) {
            self.action = action
            self.path = path
            self.message = message
            self.bytesTruncated = bytesTruncated
        }
    }

    public var paths: [String]
    public var status: String = "clean"
    public var totals = Totals()
    public var damage: [Damage] = []
    /// Damage the broker repairs by itself on start without losing data (`Damage.repairedOnStart`): reported,
    /// repaired by `--repair`, but not counted as damage (exit status 0).
    public var notes: [Damage] = []
    public var warnings: [Warning] = []
    public var repairs: [Repair]? = nil
    public var remainingDamage: [Damage]? = nil

    public init(paths: [String]) {
        self.paths = paths
    }

    /// True when no damage was found.
    public var isClean: Bool { damage.isEmpty }

    /// The process exit status: 0 clean, 1 damage found (even when `--repair` fixed it: a second run shows
    /// the result).
    public var exitStatus: Int32 { isClean ? 0 : 1 }

    /// Damage kinds found, for summaries and tests.
    public var damageKinds: Set<Damage.Kind> { Set(damage.map(\.kind)) }

    /// Moves the damage the broker repairs on start from `damage` to `notes`.
    mutating func separateNotes() {
        notes += damage.filter(\.repairedOnStart)
        damage.removeAll(where: \.repairedOnStart)
    }

    mutating func updateStatus() {
        if damage.isEmpty {
            status = "clean"
        } else if let remainingDamage, remainingDamage.isEmpty {
            status = "repaired"
        } else {
            status = "damaged"
        }
    }
}
