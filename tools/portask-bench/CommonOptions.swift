import ArgumentParser
import NIOCore
import NIOPosix

/// Options every subcommand takes: where the broker is, which topic, how to report.
struct CommonOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Broker address host:port.")
    var bootstrap = "127.0.0.1:9092"

    @Option(name: .shortAndLong, help: "Topic name.")
    var topic = "portask-bench"

    @Option(help: "Stop after this many seconds (with or instead of a count).")
    var duration: Double?

    @Flag(help: "Print the result as one JSON object on stdout instead of the human summary.")
    var json = false

    @Option(help: "Client id sent in request headers.")
    var clientId = "portask-bench"

    var durationAmount: TimeAmount? { duration.map { .nanoseconds(Int64($0 * 1e9)) } }

    /// Splits `bootstrap` into host and port.
    func hostAndPort() throws -> (String, Int) {
        guard let colon = bootstrap.lastIndex(of: ":"), let port = Int(bootstrap[bootstrap.index(after: colon)...])
        else { throw ValidationError("--bootstrap must be host:port, got \(bootstrap)") }
        return (String(bootstrap[..<colon]), port)
    }

    /// Runs `body` with a connection on a one-thread event loop group, then shuts both down.
    func withConnection<T: Sendable>(_ body: (BenchConnection) async throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (host, port) = try hostAndPort()
        do {
            let connection = try await BenchConnection.connect(host: host, port: port, group: group, clientId: clientId)
            let result: T
            do {
                result = try await body(connection)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    func report(_ result: RunResult, kind: String) {
        print(json ? result.json(kind: kind) : result.summary(kind: kind))
    }
}
