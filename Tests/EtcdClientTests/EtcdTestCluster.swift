import EtcdClient
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Local etcd members on loopback ports, each with its own temporary data directory, for integration tests.
/// Not thread-safe: used by one test at a time.
final class EtcdTestCluster {
    struct Member {
        var name: String
        var clientPort: Int
        var peerPort: Int
        var dataDir: URL
        var process: Process?
    }

    /// The `etcd` binary, or nil when it is not installed (then the tests are skipped).
    static let binaryPath: String? = ["/usr/bin/etcd", "/usr/local/bin/etcd"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    private(set) var members: [Member] = []
    private let root: URL
    private let token = "portask-test-\(UUID().uuidString.prefix(8))"

    /// Starts `size` members and waits until every one serves requests.
    init(size: Int = 1) async throws {
        // Members keep their data in memory when the machine has a tmpfs: etcd fsyncs its WAL on every write, and
        // a disk busy with the rest of the suite can hold a member's start-up for tens of seconds.
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm")
            ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        root = base.appendingPathComponent("etcd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for index in 0..<size {
            let name = "m\(index)"
            members.append(
                Member(
                    name: name, clientPort: try Self.freePort(), peerPort: try Self.freePort(),
                    dataDir: root.appendingPathComponent(name), process: nil))
        }
        for index in members.indices { try start(index) }
        for index in members.indices { try await waitUntilServing(index) }
    }

    deinit {
        for member in members where member.process?.isRunning == true {
            kill(member.process!.processIdentifier, SIGKILL)
            member.process!.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }

    var endpoints: [EtcdEndpoint] { members.map { EtcdEndpoint(host: "127.0.0.1", port: $0.clientPort) } }

    func client(endpoints: [EtcdEndpoint]? = nil) -> EtcdClient {
        EtcdClient(
            configuration: EtcdClientConfiguration(
                endpoints: endpoints ?? self.endpoints, requestTimeout: .seconds(30), connectTimeout: .seconds(5),
                watchRetryDelay: .milliseconds(100)))
    }

    /// Starts (or restarts, with its data) member `index`.
    func start(_ index: Int) throws {
        let member = members[index]
        let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binaryPath ?? "/usr/bin/etcd")
        process.arguments = [
            "--name", member.name, "--data-dir", member.dataDir.path,
            "--listen-client-urls", "http://127.0.0.1:\(member.clientPort)",
            "--advertise-client-urls", "http://127.0.0.1:\(member.clientPort)",
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", cluster, "--initial-cluster-token", token, "--initial-cluster-state", "new",
            "--heartbeat-interval", "50", "--election-timeout", "500",
        ]
        let log = root.appendingPathComponent("\(member.name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        members[index].process = process
    }

    /// Kills member `index` with SIGKILL and waits for it to exit.
    func kill9(_ index: Int) {
        guard let process = members[index].process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        members[index].process = nil
    }

    /// Waits until member `index` answers a read (up to 90 s on a loaded machine); fails at once, with the end of
    /// its log, when the member exited.
    func waitUntilServing(_ index: Int) async throws {
        let single = client(endpoints: [endpoints[index]])
        let deadline = ContinuousClock.now.advanced(by: .seconds(90))
        while true {
            do {
                _ = try await single.range(Array("health".utf8))
                return
            } catch {
                if let process = members[index].process, !process.isRunning {
                    let log = root.appendingPathComponent("\(members[index].name).log")
                    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                    throw EtcdMemberExited(status: process.terminationStatus, logTail: String(text.suffix(2_000)))
                }
                if ContinuousClock.now > deadline { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// A port that was free a moment ago (bound to 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EtcdError(.unavailable, "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw EtcdError(.unavailable, "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Collects values handed in from watch callbacks.
actor Collected<Value: Sendable> {
    private(set) var values: [Value] = []

    func add(_ new: [Value]) { values.append(contentsOf: new) }

    /// Waits until `predicate` holds for the values (up to `timeout`); returns them.
    func wait(timeout: Duration = .seconds(15), until predicate: @Sendable ([Value]) -> Bool) async -> [Value] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !predicate(values), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return values
    }
}

/// Bytes of a string.
func b(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Retries `body` until it succeeds (up to `timeout`), for the moments a member is down or electing.
@discardableResult
func eventually<Value>(timeout: Duration = .seconds(20), _ body: () async throws -> Value) async throws -> Value {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
        do {
            return try await body()
        } catch {
            if ContinuousClock.now > deadline { throw error }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// An etcd member of a test cluster exited before it served: its exit status and the end of its log.
struct EtcdMemberExited: Error, CustomStringConvertible {
    var status: Int32
    var logTail: String
    var description: String { "etcd exited with status \(status): \(logTail)" }
}
