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


def uvarint(value: int) -> bytes:
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def cstring(value) -> bytes:
    """A compact (nullable) string."""
    if value is None:
        return b"\x00"
    data = value.encode()
    return uvarint(len(data) + 1) + data


def carray(items, encode=lambda item: item) -> bytes:
    """A compact (nullable) array of already encoded items, or of items `encode` turns into bytes."""
    if items is None:
        return b"\x00"
    return uvarint(len(items) + 1) + b"".join(encode(item) for item in items)


class Reader:
    """Reads a flexible-version response body field by field."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise ValueError("response too short")
        chunk = self.data[self.at:self.at + count]
        self.at += count
        return chunk

    def int(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def uvarint(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def string(self):
        length = self.uvarint() - 1
        return None if length < 0 else self.take(length).decode()

    def array(self, read_item):
        count = self.uvarint() - 1
        return None if count < 0 else [read_item() for _ in range(count)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def flexible_exchange(port: int, api_key: int, version: int, body: bytes, correlation_id: int = 11) -> Reader:
    """Sends one request with header v2 and returns a Reader positioned after the response header (v1)."""
    header = struct.pack(">hhih", api_key, version, correlation_id, 3) + b"raw" + b"\x00"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
        answer = Reader(read_response(sock))
    assert answer.int(">i") == correlation_id
    answer.tags()
    return answer
