#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin throwing wrappers over the POSIX calls LogEngine uses. Stateless and thread-safe.
enum FileSystem {
    static func error(_ call: String, _ path: String, errno code: Int32 = errno) -> LogEngineError {
        LogEngineError(.io, "\(call) failed: \(String(cString: strerror(code)))", context: path)
    }

    /// Opens (and with `create`, creates) a file read-write; the descriptor is close-on-exec.
    static func open(_ path: String, create: Bool = false) throws -> CInt {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        let fd = Glibc.open(path, flags, 0o644)
        if fd < 0 { throw error("open", path) }
        return fd
    }

    static func size(of fd: CInt, path: String) throws -> Int {
        var info = Glibc.stat()
        if fstat(fd, &info) != 0 { throw error("fstat", path) }
        return Int(info.st_size)
    }

    /// Size and modification time (ms since the epoch) of the file at `path`, or nil when it does not exist.
    static func fileInfo(_ path: String) -> (size: Int, modifiedMs: Int64)? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0 else { return nil }
        // Any time_t can be set on some file systems: saturate rather than trap.
        let (seconds, overflow) = Int64(info.st_mtim.tv_sec).multipliedReportingOverflow(by: 1000)
        let ms = overflow ? (info.st_mtim.tv_sec < 0 ? Int64.min : Int64.max)
            : seconds.saturatingAdd(Int64(info.st_mtim.tv_nsec) / 1_000_000)
        return (Int(info.st_size), ms)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Writes all of `bytes` at `position`: one `pwrite` unless the kernel returns a short count.
    static func pwriteAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer, at position: Int, path: String) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        var offset = off_t(position)
        while remaining > 0 {
            let written = pwrite(fd, base, remaining, offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw error("pwrite", path)
            }
            remaining -= written
            offset += off_t(written)
            base += written
        }
    }

    static func preadAll(_ fd: CInt, into bytes: UnsafeMutableRawBufferPointer, at position: Int, path: String) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        var offset = off_t(position)
        while remaining > 0 {
            let count = pread(fd, base, remaining, offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw error("pread", path)
            }
            if count == 0 { throw LogEngineError(.io, "unexpected end of file", context: path) }
            remaining -= count
            offset += off_t(count)
            base += count
        }
    }

    static func truncate(_ fd: CInt, to size: Int, path: String) throws {
        if ftruncate(fd, off_t(size)) != 0 { throw error("ftruncate", path) }
    }

    static func truncate(path: String, to size: Int) throws {
        if Glibc.truncate(path, off_t(size)) != 0 { throw error("truncate", path) }
    }

    /// Flushes file data (and the size) to stable storage.
    static func sync(_ fd: CInt, path: String) throws {
        if fdatasync(fd) != 0 { throw error("fdatasync", path) }
    }

    /// Makes renames, creations and deletions inside `directory` durable.
    static func syncDirectory(_ directory: String) throws {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw error("open", directory) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw error("fsync", directory) }
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw error("rename", from) }
    }

    static func unlink(_ path: String) throws {
        if Glibc.unlink(path) != 0, errno != ENOENT { throw error("unlink", path) }
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0, errno != EEXIST { throw error("mkdir", path) }
    }

    /// Removes a directory and the regular files in it (partition directories hold no subdirectories).
    static func removeDirectory(_ path: String) throws {
        for name in try list(path) { try unlink(path + "/" + name) }
        if rmdir(path) != 0, errno != ENOENT { throw error("rmdir", path) }
    }

    /// Names in `directory`, without "." and "..".
    static func list(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else { throw error("opendir", directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func isDirectory(_ path: String) -> Bool {
        guard let dir = opendir(path) else { return false }
        closedir(dir)
        return true
    }

    /// Writes `contents` to `path` atomically: temporary file, fsync, rename, directory fsync.
    static func writeAtomically(_ contents: String, to path: String, directory: String) throws {
        try writeAtomically(bytes: Array(contents.utf8), to: path, directory: directory)
    }

    /// Writes `bytes` to `path` atomically: temporary file, fsync, rename, directory fsync. Without `durable`,
    /// neither fsync happens: the file is complete or absent for readers, but a power loss may leave it
    /// missing or torn (callers then need a checksum, and `sync(path:)` later).
    static func writeAtomically(bytes: [UInt8], to path: String, directory: String, durable: Bool = true) throws {
        let temporary = path + ".tmp"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw error("open", temporary) }
        do {
            try bytes.withUnsafeBytes { try pwriteAll(fd, $0, at: 0, path: temporary) }
            if durable && fsync(fd) != 0 { throw error("fsync", temporary) }
            close(fd)
        } catch {
            close(fd)
            throw error
        }
        try rename(temporary, path)
        if durable { try syncDirectory(directory) }
    }

    /// Fsyncs the file at `path`; nothing happens when it no longer exists.
    static func sync(path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw error("open", path)
        }
        defer { close(fd) }
        if fsync(fd) != 0 { throw error("fsync", path) }
    }

    /// The whole file, or nil when it does not exist.
    static func readBytes(_ path: String) throws -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw error("open", path)
        }
        defer { close(fd) }
        let size = try size(of: fd, path: path)
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeMutableBytes { try preadAll(fd, into: $0, at: 0, path: path) }
        return bytes
    }

    /// The whole file as a string, or nil when it does not exist.
    static func readString(_ path: String) throws -> String? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw error("open", path)
        }
        defer { close(fd) }
        let size = try size(of: fd, path: path)
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeMutableBytes { try preadAll(fd, into: $0, at: 0, path: path) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
