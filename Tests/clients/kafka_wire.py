"""A few hand-encoded Kafka requests for tests that need raw protocol access (timing, malformed input)."""
import socket
import struct
import time


def frame(api_key: int, version: int, correlation_id: int, body: bytes, client_id: bytes = b"raw") -> bytes:
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def fetch_v4(topic: str, partition: int, offset: int, max_wait_ms: int, min_bytes: int) -> bytes:
    name = topic.encode()
    return (struct.pack(">iiiib", -1, max_wait_ms, min_bytes, 1 << 20, 0)
            + struct.pack(">i", 1) + struct.pack(">h", len(name)) + name
            + struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, 1 << 20))


def read_response(sock: socket.socket) -> bytes:
    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("connection closed")
            data += chunk
        return data
    size = struct.unpack(">i", exactly(4))[0]
    return exactly(size)


def timed_fetch(port: int, topic: str, offset: int, max_wait_ms: int, min_bytes: int = 1) -> tuple:
    """Sends a Fetch v4 and returns (seconds until the answer, answer bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(frame(1, 4, 1, fetch_v4(topic, 0, offset, max_wait_ms, min_bytes)))
        answer = read_response(sock)
        return time.monotonic() - started, answer
