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


def varint(value: int) -> bytes:
    """A zigzag varint, as record fields are encoded."""
    raw = (value << 1) ^ (value >> 63)
    out = b""
    while True:
        byte = raw & 0x7F
        raw >>= 7
        out += bytes([byte | (0x80 if raw else 0)])
        if not raw:
            return out


def record(offset_delta: int, value: bytes, key: bytes = None) -> bytes:
    body = (b"\x00" + varint(0) + varint(offset_delta)
            + (varint(-1) if key is None else varint(len(key)) + key)
            + varint(len(value)) + value + varint(0))
    return varint(len(body)) + body


def record_batch(records: list, record_count: int = None, last_offset_delta: int = None, attributes: int = 0,
                 producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1,
                 timestamp: int = 1_700_000_000_000) -> bytes:
    """A record batch v2 with a valid CRC-32C, whose counts may lie."""
    from kafka.record import _crc32c
    payload = b"".join(records)
    count = len(records) if record_count is None else record_count
    last = (len(records) - 1 if records else 0) if last_offset_delta is None else last_offset_delta
    after_crc = (struct.pack(">hiqqqhii", attributes, last, timestamp, timestamp, producer_id, producer_epoch,
                             base_sequence, count) + payload)
    crc = _crc32c.crc(after_crc)
    body = struct.pack(">ib", 0, 2) + struct.pack(">I", crc) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def produce_v3(topic: str, partition: int, records: bytes, acks: int = -1) -> bytes:
    name = topic.encode()
    return (struct.pack(">hhi", -1, acks, 30_000) + struct.pack(">i", 1) + struct.pack(">h", len(name)) + name
            + struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(records)) + records)


def produce_v3_error(answer: bytes) -> int:
    """The first partition's error code of a Produce v3 response (after the correlation id)."""
    name_length = struct.unpack(">h", answer[8:10])[0]
    at = 10 + name_length + 4 + 4
    return struct.unpack(">h", answer[at:at + 2])[0]
