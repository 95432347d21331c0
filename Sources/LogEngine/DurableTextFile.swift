/// Small text files that must survive crashes whole or not at all (metadata next to the logs).
///
/// Writes go to a temporary file that is fsynced, renamed over the target, and the directory fsynced, so a
/// reader sees the old or the new contents, never a mix. Stateless; thread-safe per distinct path.
public enum DurableTextFile {
    /// Replaces the file at `path` with `contents` atomically and durably, creating its directory if needed.
    public static func write(_ contents: String, to path: String) throws {
        let directory = parentDirectory(of: path)
        try FileSystem.makeDirectory(directory)
        try FileSystem.writeAtomically(contents, to: path, directory: directory)
    }

    /// The contents of `path`, or `nil` when it does not exist.
    public static func read(_ path: String) throws -> String? {
        try FileSystem.readString(path)
    }

    /// Removes `path` durably; nothing happens when it does not exist.
    public static func remove(_ path: String) throws {
        guard FileSystem.exists(path) else { return }
        try FileSystem.unlink(path)
        try FileSystem.syncDirectory(parentDirectory(of: path))
    }

    /// The names in `directory`, or none when it does not exist.
    public static func list(_ directory: String) throws -> [String] {
        guard FileSystem.isDirectory(directory) else { return [] }
        return try FileSystem.list(directory)
    }

    private static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
