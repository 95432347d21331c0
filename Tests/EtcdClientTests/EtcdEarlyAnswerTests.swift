import EtcdClient
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A server that answers and closes the connection at once, before or while the request arrives, as a gateway
/// does once a request body is complete: the answer must be read whatever happened to the write.
struct EtcdEarlyAnswerTests {
    @Test func answerSentBeforeTheRequestBodyEnded_isStillRead() async throws {
        let server = try EarlyAnswerServer(body: #"{"header":{"revision":"7"},"kvs":[],"count":"0"}"#)
        defer { server.stop() }
        let client = EtcdClient(
            configuration: EtcdClientConfiguration(
                endpoints: [EtcdEndpoint(host: "127.0.0.1", port: server.port)], requestTimeout: .seconds(10),
                connectTimeout: .seconds(5), watchRetryDelay: .milliseconds(100)))
        for _ in 0..<20 {
            // A large key makes the request span many segments, so the server closes while it is still written.
            let answer = try await client.range(Array(repeating: 0x61, count: 256 * 1024))
            #expect(answer.header.revision == 7)
            #expect(answer.kvs.isEmpty)
        }
    }
}

/// Accepts connections on a loopback port; answers each with one fixed HTTP answer as soon as the request head
/// has arrived, and ends its side.
private final class EarlyAnswerServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let thread: Thread

    init(body: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, ok else { throw EtcdError(.unavailable, "cannot listen") }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let answer = Array(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                .utf8)
        thread = Thread {
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 { return }
                // Answers once the request head has arrived, without waiting for the body.
                var head: [UInt8] = []
                var byte: UInt8 = 0
                while !head.ends(with: [13, 10, 13, 10]), recv(connection, &byte, 1, 0) == 1 { head.append(byte) }
                _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                // Ends its side at once, then drains what the client still sends (closing with unread data
                // would reset the connection and discard the answer).
                shutdown(connection, Int32(SHUT_WR))
                var sink = [UInt8](repeating: 0, count: 65_536)
                while sink.withUnsafeMutableBytes({ recv(connection, $0.baseAddress, $0.count, 0) }) > 0 {}
                close(connection)
            }
        }
        thread.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
