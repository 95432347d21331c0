import Foundation

/// Directory listing and file type queries for the verifier (read-only).
///
/// Thread-safety: stateless.
enum Directory {
    /// Names in `path`; throws `VerifyError.io` when it cannot be listed.
    static func list(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw VerifyError(.io, "cannot list directory", context: path)
        }
    }

    /// nil when nothing exists at `path`, else whether it is a directory.
    static func isDirectory(_ path: String) -> Bool? {
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &directory) else { return nil }
        return directory.boolValue
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Size in bytes of the file at `path`, 0 when unknown.
    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Total size of the `.log` files under `path` (a file, partition or data directory), for progress.
    static func logBytes(under path: String) -> Int {
        guard let isDirectory = isDirectory(path) else { return 0 }
        if !isDirectory { return path.hasSuffix(".log") ? size(path) : 0 }
        var total = 0
        for name in (try? list(path)) ?? [] {
            let child = path + "/" + name
            if name.hasSuffix(".log") {
                total += size(child)
            } else if Self.isDirectory(child) == true, !name.hasSuffix("-delete") {
                for inner in (try? list(child)) ?? [] where inner.hasSuffix(".log") { total += size(child + "/" + inner) }
            }
        }
        return total
    }
}
