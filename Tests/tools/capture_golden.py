#!/usr/bin/env python3
"""Capture golden Kafka request frames from real Kafka clients.

Runs a small fake Kafka broker on 127.0.0.1 (a free port), drives real clients
against it through their normal flows, records every request frame (the bytes
after the 4-byte size prefix) and writes one representative frame per
(client, API, version) -- plus a few named variants (Metadata for all topics /
brokers only, idempotent Produce, JoinGroup rejoining with its member id) --
and a manifest with independently decoded field values.

Clients:
  * librdkafka as bundled in the confluent-kafka wheel  -> librdkafka-<libversion>
  * kcat (Debian package, librdkafka 2.0.2)               -> kcat-librdkafka-<version>
  * kafka-python                                          -> kafka-python-<version>

The encoder/decoder is driven by Apache Kafka's JSON message schemas, read at
run time from the shared protocol directory (never copied into the project).

Usage (see Tests/KafkaProtocolTests/Fixtures/golden/CAPTURE.md):
  .venv/bin/python Tests/tools/capture_golden.py \
      --schemas ../shared/kafka-protocol/messages \
      --out Tests/KafkaProtocolTests/Fixtures/golden
"""

import argparse
import glob
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

# ---------------------------------------------------------------------------
# Fixed, recognisable values
# ---------------------------------------------------------------------------
TOPIC = "golden-topic"
GROUP = "golden-group"
TOPIC_ID = b"golden-topic-id!"  # 16 bytes -> uuid 676f6c64656e2d746f7069632d696421
CLUSTER_ID = "golden-cluster"
PRODUCER_ID = 1000
PRODUCER_EPOCH = 0
KEY = b"k1"
VALUE = b"v1"
HEADER_KEY = "h1"
HEADER_VALUE = b"x"
BATCH_TIMESTAMP = 1700000000000
CLIENT_IDS = {
    "rdkafka": "golden-rdkafka",
    "kcat": "golden-kcat",
    "kafka-python": "golden-kafka-python",
}

# API keys that are not advertised by the fake broker (optional features that
# would need more than a default answer to keep the client flows simple).
NOT_ADVERTISED = {
    71,  # GetTelemetrySubscriptions (KIP-714): client metrics push loop
    72,  # PushTelemetry
}

# ---------------------------------------------------------------------------
# Schema loading
# ---------------------------------------------------------------------------


def strip_comments(text):
    out = []
    for line in text.splitlines():
        if line.strip().startswith("//"):
            continue
        out.append(line)
    return "\n".join(out)


def parse_versions(spec):
    """Return (lo, hi) inclusive; hi None means open; None means never."""
    if spec is None or spec == "none":
        return None
    spec = spec.strip()
    if spec.endswith("+"):
        return (int(spec[:-1]), None)
    if "-" in spec:
        a, b = spec.split("-")
        return (int(a), int(b))
    return (int(spec), int(spec))


def in_versions(spec, v):
    r = parse_versions(spec) if isinstance(spec, (str, type(None))) else spec
    if r is None:
        return False
    lo, hi = r
    return v >= lo and (hi is None or v <= hi)


class Schemas:
    def __init__(self, directory):
        self.requests = {}
        self.responses = {}
        self.by_name = {}
        for path in glob.glob(os.path.join(directory, "*.json")):
            with open(path) as fh:
                data = json.loads(strip_comments(fh.read()))
            self.by_name[data["name"]] = data
            if data["type"] == "request":
                self.requests[data["apiKey"]] = data
            elif data["type"] == "response":
                self.responses[data["apiKey"]] = data
        self.request_header = self.by_name["RequestHeader"]
        self.response_header = self.by_name["ResponseHeader"]

    def api_name(self, key):
        return self.requests[key]["name"][: -len("Request")]

    def request_header_version(self, key, version):
        if in_versions(self.requests[key].get("flexibleVersions", "none"), version):
            return 2
        return 1

    def response_header_version(self, key, version):
        if key == 18:  # ApiVersions responses always use header v0
            return 0
        if in_versions(self.responses[key].get("flexibleVersions", "none"), version):
            return 1
        return 0


# ---------------------------------------------------------------------------
# Primitive codec
# ---------------------------------------------------------------------------


class Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short read: need %d at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def uvarint(self):
        shift = 0
        result = 0
        while True:
            b = self.take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def varint(self):
        u = self.uvarint()
        return (u >> 1) ^ -(u & 1)

    def remaining(self):
        return len(self.data) - self.pos


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(n):
    return uvarint((n << 1) ^ (n >> 63))


PRIMS = {
    "int8": ">b",
    "int16": ">h",
    "uint16": ">H",
    "int32": ">i",
    "uint32": ">I",
    "int64": ">q",
    "float64": ">d",
}


class Codec:
    """Schema-driven encoder/decoder for Kafka messages."""

    def __init__(self, schema):
        self.schema = schema
        self.common = {s["name"]: s for s in schema.get("commonStructs", [])}
        self.flexible = parse_versions(schema.get("flexibleVersions", "none"))

    def is_flexible(self, version):
        return self.flexible is not None and in_versions(self.flexible, version)

    # -- helpers --------------------------------------------------------
    def struct_fields(self, field):
        if "fields" in field:
            return field["fields"]
        t = field["type"]
        if t.startswith("[]"):
            t = t[2:]
        if t in self.common:
            return self.common[t]["fields"]
        return None

    @staticmethod
    def base_type(field):
        t = field["type"]
        return (t[2:], True) if t.startswith("[]") else (t, False)

    @staticmethod
    def field_flexible(field, flexible, version):
        if "flexibleVersions" in field:
            return in_versions(field["flexibleVersions"], version)
        return flexible

    def default_value(self, field, version):
        t, is_array = self.base_type(field)
        nullable = in_versions(field.get("nullableVersions", "none"), version)
        d = field.get("default")
        if is_array:
            return None if (d == "null" and nullable) else []
        if self.struct_fields(field) is not None:
            return None if (d == "null" and nullable) else {}
        if d is not None and not isinstance(d, str):
            return d
        if d is not None:
            if d == "null":
                return None
            if t == "bool":
                return d == "true"
            if t in PRIMS:
                if t == "float64":
                    return float(d)
                return int(d, 0)
            if t == "string":
                return d
        if t == "bool":
            return False
        if t in PRIMS:
            return 0.0 if t == "float64" else 0
        if t == "string":
            return ""
        if t in ("bytes", "records"):
            return b"" if not (t == "records" and nullable) else None
        if t == "uuid":
            return b"\x00" * 16
        raise ValueError("no default for %r" % (field,))

    # -- decode ---------------------------------------------------------
    def decode(self, data_or_reader, version, fields=None):
        r = data_or_reader if isinstance(data_or_reader, Reader) else Reader(data_or_reader)
        fields = self.schema["fields"] if fields is None else fields
        return self._decode_struct(r, fields, version, self.is_flexible(version))

    def _decode_struct(self, r, fields, version, flexible):
        out = {}
        tagged = {}
        for f in fields:
            if not in_versions(f.get("versions", "0+"), version):
                continue
            if flexible and "tag" in f and in_versions(f.get("taggedVersions", "none"), version):
                tagged[f["tag"]] = f
                out[f["name"]] = self.default_value(f, version)
                continue
            out[f["name"]] = self._decode_field(r, f, version, flexible)
        if flexible:
            out["_presentTags"] = []
            n = r.uvarint()
            unknown = {}
            for _ in range(n):
                tag = r.uvarint()
                size = r.uvarint()
                raw = r.take(size)
                if tag in tagged:
                    f = tagged[tag]
                    out[f["name"]] = self._decode_field(Reader(raw), f, version, flexible)
                    out["_presentTags"].append(f["name"])
                else:
                    unknown[tag] = raw
            if unknown:
                out["_unknownTaggedFields"] = unknown
        return out

    def _decode_field(self, r, f, version, flexible):
        t, is_array = self.base_type(f)
        nullable = in_versions(f.get("nullableVersions", "none"), version)
        fflex = self.field_flexible(f, flexible, version)
        sub = self.struct_fields(f)
        if is_array:
            if fflex:
                n = r.uvarint() - 1
            else:
                n = r.unpack(">i")
            if n < 0:
                if not nullable:
                    raise ValueError("null array for non-nullable %s" % f["name"])
                return None
            if sub is not None:
                return [self._decode_struct(r, sub, version, flexible) for _ in range(n)]
            return [self._decode_prim(r, t, False, fflex) for _ in range(n)]
        if sub is not None:
            if nullable:
                marker = r.unpack(">b")
                if marker < 0:
                    return None
            return self._decode_struct(r, sub, version, flexible)
        return self._decode_prim(r, t, nullable, fflex)

    def _decode_prim(self, r, t, nullable, flexible):
        if t in PRIMS:
            return r.unpack(PRIMS[t])
        if t == "bool":
            return r.take(1)[0] != 0
        if t == "uuid":
            return r.take(16)
        if t == "string":
            n = (r.uvarint() - 1) if flexible else r.unpack(">h")
            if n < 0:
                if not nullable:
                    raise ValueError("null non-nullable string")
                return None
            return r.take(n).decode("utf-8")
        if t in ("bytes", "records"):
            n = (r.uvarint() - 1) if flexible else r.unpack(">i")
            if n < 0:
                if not nullable:
                    raise ValueError("null non-nullable bytes")
                return None
            return r.take(n)
        raise ValueError("unknown type " + t)

    # -- encode ---------------------------------------------------------
    def encode(self, value, version, fields=None):
        fields = self.schema["fields"] if fields is None else fields
        return self._encode_struct(value or {}, fields, version, self.is_flexible(version))

    def _encode_struct(self, value, fields, version, flexible):
        out = bytearray()
        tagged = []
        for f in fields:
            if not in_versions(f.get("versions", "0+"), version):
                continue
            v = value.get(f["name"], self.default_value(f, version))
            if flexible and "tag" in f and in_versions(f.get("taggedVersions", "none"), version):
                present = value.get("_presentTags")
                if (f["name"] in present) if present is not None else (f["name"] in value):
                    tagged.append((f["tag"], self._encode_field(v, f, version, flexible)))
                continue
            out += self._encode_field(v, f, version, flexible)
        if flexible:
            tagged.sort()
            out += uvarint(len(tagged))
            for tag, raw in tagged:
                out += uvarint(tag) + uvarint(len(raw)) + raw
        return bytes(out)

    def _encode_field(self, v, f, version, flexible):
        t, is_array = self.base_type(f)
        nullable = in_versions(f.get("nullableVersions", "none"), version)
        fflex = self.field_flexible(f, flexible, version)
        sub = self.struct_fields(f)
        if is_array:
            if v is None:
                if not nullable:
                    v = []
                else:
                    return uvarint(0) if fflex else struct.pack(">i", -1)
            out = bytearray(uvarint(len(v) + 1) if fflex else struct.pack(">i", len(v)))
            for item in v:
                if sub is not None:
                    out += self._encode_struct(item, sub, version, flexible)
                else:
                    out += self._encode_prim(item, t, False, fflex)
            return bytes(out)
        if sub is not None:
            if nullable:
                if v is None:
                    return struct.pack(">b", -1)
                return struct.pack(">b", 1) + self._encode_struct(v, sub, version, flexible)
            return self._encode_struct(v or {}, sub, version, flexible)
        return self._encode_prim(v, t, nullable, fflex)

    def _encode_prim(self, v, t, nullable, flexible):
        if t in PRIMS:
            return struct.pack(PRIMS[t], v)
        if t == "bool":
            return b"\x01" if v else b"\x00"
        if t == "uuid":
            assert len(v) == 16
            return bytes(v)
        if t == "string":
            if v is None:
                if not nullable:
                    v = ""
                else:
                    return uvarint(0) if flexible else struct.pack(">h", -1)
            b = v.encode("utf-8")
            return (uvarint(len(b) + 1) if flexible else struct.pack(">h", len(b))) + b
        if t in ("bytes", "records"):
            if v is None:
                if not nullable:
                    v = b""
                else:
                    return uvarint(0) if flexible else struct.pack(">i", -1)
            return (uvarint(len(v) + 1) if flexible else struct.pack(">i", len(v))) + bytes(v)
        raise ValueError("unknown type " + t)


# ---------------------------------------------------------------------------
# Record batches (magic v2)
# ---------------------------------------------------------------------------


def _crc32c_table():
    poly = 0x82F63B78
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def build_record_batch(records, base_offset=0):
    """records: list of (key, value, [(hkey, hvalue)])."""
    body = bytearray()
    for i, (k, v, headers) in enumerate(records):
        rec = bytearray()
        rec += b"\x00"  # attributes
        rec += varint(0)  # timestamp delta
        rec += varint(i)  # offset delta
        rec += varint(-1) if k is None else varint(len(k)) + k
        rec += varint(-1) if v is None else varint(len(v)) + v
        rec += varint(len(headers))
        for hk, hv in headers:
            hkb = hk.encode()
            rec += varint(len(hkb)) + hkb
            rec += varint(-1) if hv is None else varint(len(hv)) + hv
        body += varint(len(rec)) + rec
    after_crc = struct.pack(
        ">hiqqqhii",
        0,  # attributes: no compression, CreateTime
        len(records) - 1,  # last offset delta
        BATCH_TIMESTAMP,
        BATCH_TIMESTAMP,
        -1,  # producer id
        -1,  # producer epoch
        -1,  # base sequence
        len(records),
    ) + bytes(body)
    crc = crc32c(after_crc)
    after_len = struct.pack(">ibI", 0, 2, crc) + after_crc  # leader epoch, magic, crc
    return struct.pack(">qi", base_offset, len(after_len)) + after_len


def decode_record_batches(data):
    """Decode uncompressed magic-v2 record batches; returns list of dicts."""
    batches = []
    r = Reader(data)
    while r.remaining() >= 12:
        base_offset = r.unpack(">q")
        length = r.unpack(">i")
        raw = r.take(length)
        b = Reader(raw)
        leader_epoch = b.unpack(">i")
        magic = b.unpack(">b")
        if magic != 2:
            batches.append({"magic": magic})
            continue
        crc = b.unpack(">I")
        crc_ok = crc32c(raw[b.pos :]) == crc
        attributes = b.unpack(">h")
        last_offset_delta = b.unpack(">i")
        first_ts = b.unpack(">q")
        max_ts = b.unpack(">q")
        producer_id = b.unpack(">q")
        producer_epoch = b.unpack(">h")
        base_sequence = b.unpack(">i")
        count = b.unpack(">i")
        batch = {
            "baseOffset": base_offset,
            "batchLength": length,
            "partitionLeaderEpoch": leader_epoch,
            "magic": magic,
            "crcValid": crc_ok,
            "attributes": attributes,
            "lastOffsetDelta": last_offset_delta,
            "producerId": producer_id,
            "producerEpoch": producer_epoch,
            "baseSequence": base_sequence,
            "recordCount": count,
            "records": [],
        }
        if attributes & 0x7 == 0:
            for _ in range(count):
                rec_len = b.varint()
                rr = Reader(b.take(rec_len))
                rr.take(1)
                rr.varint()
                offset_delta = rr.varint()
                kl = rr.varint()
                key = None if kl < 0 else rr.take(kl)
                vl = rr.varint()
                val = None if vl < 0 else rr.take(vl)
                hn = rr.varint()
                headers = []
                for _ in range(hn):
                    hkl = rr.varint()
                    hk = rr.take(hkl).decode()
                    hvl = rr.varint()
                    hv = None if hvl < 0 else rr.take(hvl)
                    headers.append({"key": hk, "value": None if hv is None else hv.decode("utf-8", "replace")})
                batch["records"].append(
                    {
                        "offsetDelta": offset_delta,
                        "key": None if key is None else key.decode("utf-8", "replace"),
                        "value": None if val is None else val.decode("utf-8", "replace"),
                        "headers": headers,
                    }
                )
        batches.append(batch)
    return batches


# ---------------------------------------------------------------------------
# Fake broker
# ---------------------------------------------------------------------------


class Frame:
    def __init__(self, label, conn_no, data):
        self.label = label
        self.conn_no = conn_no
        self.data = data
        self.api_key, self.api_version, self.correlation_id = struct.unpack(">hhi", data[:8])


class FakeBroker:
    def __init__(self, schemas, log=None):
        self.schemas = schemas
        self.codecs_req = {k: Codec(s) for k, s in schemas.requests.items()}
        self.codecs_resp = {k: Codec(s) for k, s in schemas.responses.items()}
        self.hdr_req = Codec(schemas.request_header)
        self.hdr_resp = Codec(schemas.response_header)
        self.frames = []
        self.errors = []
        self.label = None
        self.lock = threading.Lock()
        self.member_counters = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.host, self.port = self.sock.getsockname()
        self.running = True
        self.conn_count = 0
        self.log = log
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    @property
    def bootstrap(self):
        return "%s:%d" % (self.host, self.port)

    def stop(self):
        self.running = False
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept_loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conn_count += 1
                n = self.conn_count
            threading.Thread(target=self._serve, args=(conn, n), daemon=True).start()

    @staticmethod
    def _recv_exact(conn, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _serve(self, conn, conn_no):
        conn.settimeout(60)
        try:
            while self.running:
                size_raw = self._recv_exact(conn, 4)
                if size_raw is None:
                    return
                (size,) = struct.unpack(">i", size_raw)
                if size <= 0 or size > 10 * 1024 * 1024:
                    return
                data = self._recv_exact(conn, size)
                if data is None:
                    return
                frame = Frame(self.label, conn_no, data)
                with self.lock:
                    self.frames.append(frame)
                try:
                    resp = self.handle(frame)
                except Exception as e:  # keep serving; record the problem
                    self.errors.append("%s api %d v%d: %r" % (self.label, frame.api_key, frame.api_version, e))
                    if self.log:
                        self.log("handler error: %s" % self.errors[-1])
                    return
                if resp is not None:
                    conn.sendall(struct.pack(">i", len(resp)) + resp)
        except (OSError, socket.timeout):
            return
        finally:
            conn.close()

    # -- request handling -----------------------------------------------
    def parse_request(self, data):
        key, version = struct.unpack(">hh", data[:4])
        hv = self.schemas.request_header_version(key, version)
        r = Reader(data)
        header = self.hdr_req.decode(r, hv)
        body = self.codecs_req[key].decode(r, version)
        # Like Kafka's own request parsing, bytes after the last field are
        # ignored (librdkafka's all-topics Metadata v9+ request carries three).
        return hv, header, body

    def handle(self, frame):
        key, version = frame.api_key, frame.api_version
        if key == 18 and version > self.max_version(18):
            # Unsupported ApiVersions version: answer v0 with UNSUPPORTED_VERSION.
            body = {"ErrorCode": 35, "ApiKeys": [{"ApiKey": 18, "MinVersion": 0, "MaxVersion": self.max_version(18)}]}
            return self._response(frame, 0, body)
        _, header, req = self.parse_request(frame.data)
        fn = getattr(self, "on_%d" % key, None)
        body = fn(req, version) if fn else {}
        if body is None:
            return None
        return self._response(frame, version, body)

    def _response(self, frame, version, body):
        key = frame.api_key
        hv = self.schemas.response_header_version(key, version)
        out = self.hdr_resp.encode({"CorrelationId": frame.correlation_id}, hv)
        out += self.codecs_resp[key].encode(body, version)
        return out

    def max_version(self, key):
        s = self.schemas.requests[key]
        lo, hi = parse_versions(s["validVersions"])
        return hi

    # ApiVersions
    def on_18(self, req, v):
        keys = []
        for key in sorted(self.schemas.requests):
            s = self.schemas.requests[key]
            if "broker" not in s.get("listeners", []) or key in NOT_ADVERTISED:
                continue
            lo, hi = parse_versions(s["validVersions"])
            if s.get("latestVersionUnstable"):
                hi -= 1
                if hi < lo:
                    continue
            keys.append({"ApiKey": key, "MinVersion": lo, "MaxVersion": hi})
        return {"ErrorCode": 0, "ApiKeys": keys, "ThrottleTimeMs": 0}

    def _partition_meta(self):
        return {
            "ErrorCode": 0,
            "PartitionIndex": 0,
            "LeaderId": 0,
            "LeaderEpoch": 0,
            "ReplicaNodes": [0],
            "IsrNodes": [0],
            "OfflineReplicas": [],
        }

    # Metadata
    def on_3(self, req, v):
        names = [t["Name"] for t in req["Topics"]] if req["Topics"] is not None else None
        if names is None or (v == 0 and not names):
            names = [TOPIC]
        topics = []
        for n in names:
            if n is None:
                n = TOPIC
            topics.append(
                {
                    "ErrorCode": 0,
                    "Name": n,
                    "TopicId": TOPIC_ID,
                    "IsInternal": False,
                    "Partitions": [self._partition_meta()],
                    "TopicAuthorizedOperations": -2147483648,
                }
            )
        return {
            "Brokers": [{"NodeId": 0, "Host": self.host, "Port": self.port, "Rack": None}],
            "ClusterId": CLUSTER_ID,
            "ControllerId": 0,
            "Topics": topics,
            "ClusterAuthorizedOperations": -2147483648,
        }

    # Produce
    def on_0(self, req, v):
        if req["Acks"] == 0:
            return None
        topics = []
        for t in req["TopicData"]:
            parts = []
            for p in t["PartitionData"]:
                parts.append(
                    {
                        "Index": p["Index"],
                        "ErrorCode": 0,
                        "BaseOffset": 0,
                        "LogAppendTimeMs": -1,
                        "LogStartOffset": 0,
                        "RecordErrors": [],
                        "ErrorMessage": None,
                    }
                )
            topics.append({"Name": t["Name"], "PartitionResponses": parts})
        return {"Responses": topics, "ThrottleTimeMs": 0}

    # Fetch
    def on_1(self, req, v):
        any_data = False
        topics = []
        for t in req["Topics"]:
            parts = []
            for p in t["Partitions"]:
                records = b""
                if p["FetchOffset"] == 0:
                    records = build_record_batch([(KEY, VALUE, [(HEADER_KEY, HEADER_VALUE)])])
                    any_data = True
                parts.append(
                    {
                        "PartitionIndex": p["Partition"],
                        "ErrorCode": 0,
                        "HighWatermark": 1,
                        "LastStableOffset": 1,
                        "LogStartOffset": 0,
                        "AbortedTransactions": [],
                        "PreferredReadReplica": -1,
                        "Records": records,
                    }
                )
            topics.append({"Topic": t.get("Topic", TOPIC) or TOPIC, "TopicId": t.get("TopicId", TOPIC_ID), "Partitions": parts})
        if not any_data:
            time.sleep(min(max(req["MaxWaitMs"], 0), 300) / 1000.0)
        return {"ThrottleTimeMs": 0, "ErrorCode": 0, "SessionId": 0, "Responses": topics}

    # ListOffsets
    def on_2(self, req, v):
        topics = []
        for t in req["Topics"]:
            parts = []
            for p in t["Partitions"]:
                ts = p.get("Timestamp", -1)
                offset = 1 if ts == -1 else 0
                parts.append(
                    {
                        "PartitionIndex": p["PartitionIndex"],
                        "ErrorCode": 0,
                        "OldStyleOffsets": [offset],
                        "Timestamp": -1,
                        "Offset": offset,
                        "LeaderEpoch": 0,
                    }
                )
            topics.append({"Name": t["Name"], "Partitions": parts})
        return {"ThrottleTimeMs": 0, "Topics": topics}

    # FindCoordinator
    def on_10(self, req, v):
        node = {"NodeId": 0, "Host": self.host, "Port": self.port, "ErrorCode": 0, "ErrorMessage": None}
        body = dict(node)
        body["ThrottleTimeMs"] = 0
        keys = req.get("CoordinatorKeys") or []
        body["Coordinators"] = [dict(node, Key=k) for k in keys]
        return body

    # JoinGroup
    def on_11(self, req, v):
        with self.lock:
            n = self.member_counters.get(self.label, 0) + 1
            self.member_counters[self.label] = n
        member = req["MemberId"] or "%s-member-%d" % (CLIENT_IDS.get(self.label, "golden"), n)
        if v >= 4 and not req["MemberId"]:
            # As Kafka does (KIP-394): hand out a member id and ask to rejoin with it.
            return {"ErrorCode": 79, "GenerationId": -1, "ProtocolName": None, "Leader": "", "MemberId": member, "Members": []}
        proto = req["Protocols"][0]
        return {
            "ThrottleTimeMs": 0,
            "ErrorCode": 0,
            "GenerationId": 1,
            "ProtocolType": req["ProtocolType"],
            "ProtocolName": proto["Name"],
            "Leader": member,
            "SkipAssignment": False,
            "MemberId": member,
            "Members": [{"MemberId": member, "GroupInstanceId": req.get("GroupInstanceId"), "Metadata": proto["Metadata"]}],
        }

    def assignment_bytes(self):
        codec = Codec(self.schemas.by_name["ConsumerProtocolAssignment"])
        body = codec.encode({"AssignedPartitions": [{"Topic": TOPIC, "Partitions": [0]}], "UserData": None}, 0)
        return struct.pack(">h", 0) + body

    # SyncGroup
    def on_14(self, req, v):
        return {
            "ThrottleTimeMs": 0,
            "ErrorCode": 0,
            "ProtocolType": req.get("ProtocolType") or "consumer",
            "ProtocolName": req.get("ProtocolName"),
            "Assignment": self.assignment_bytes(),
        }

    # OffsetFetch
    def _offset_fetch_topics(self, topics):
        if topics is None:
            topics = [{"Name": TOPIC, "PartitionIndexes": [0]}]
        out = []
        for t in topics:
            out.append(
                {
                    "Name": t["Name"],
                    "Partitions": [
                        {
                            "PartitionIndex": p,
                            "CommittedOffset": -1,
                            "CommittedLeaderEpoch": -1,
                            "Metadata": "",
                            "ErrorCode": 0,
                        }
                        for p in t["PartitionIndexes"]
                    ],
                }
            )
        return out

    def on_9(self, req, v):
        if v >= 8:
            groups = [
                {"GroupId": g["GroupId"], "Topics": self._offset_fetch_topics(g["Topics"]), "ErrorCode": 0}
                for g in req["Groups"]
            ]
            return {"ThrottleTimeMs": 0, "Groups": groups}
        return {"ThrottleTimeMs": 0, "Topics": self._offset_fetch_topics(req["Topics"]), "ErrorCode": 0}

    # OffsetCommit
    def on_8(self, req, v):
        topics = [
            {"Name": t["Name"], "Partitions": [{"PartitionIndex": p["PartitionIndex"], "ErrorCode": 0} for p in t["Partitions"]]}
            for t in req["Topics"]
        ]
        return {"ThrottleTimeMs": 0, "Topics": topics}

    # Heartbeat
    def on_12(self, req, v):
        return {"ThrottleTimeMs": 0, "ErrorCode": 0}

    # LeaveGroup
    def on_13(self, req, v):
        members = [
            {"MemberId": m["MemberId"], "GroupInstanceId": m.get("GroupInstanceId"), "ErrorCode": 0}
            for m in (req.get("Members") or [])
        ]
        return {"ThrottleTimeMs": 0, "ErrorCode": 0, "Members": members}

    # InitProducerId
    def on_22(self, req, v):
        return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ProducerId": PRODUCER_ID, "ProducerEpoch": PRODUCER_EPOCH}


# ---------------------------------------------------------------------------
# Client flows
# ---------------------------------------------------------------------------


def log(msg):
    sys.stderr.write("[capture %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def run_cmd(cmd, timeout, stdin=None, env=None):
    log("run: %s" % " ".join(a if len(a) < 80 else "<script>" for a in cmd))
    try:
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, env=env)
        log("  rc=%s stdout=%r stderr=%r" % (p.returncode, p.stdout[-300:], p.stderr[-500:]))
        return p
    except subprocess.TimeoutExpired as e:
        log("  timeout after %ss (stdout=%r)" % (timeout, (e.stdout or b"")[-300:]))
        return None


def kcat_version():
    out = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
    m = re.search(r"librdkafka ([0-9.]+)", out)
    k = re.search(r"Version ([0-9.]+)", out)
    return (m.group(1) if m else "unknown"), (k.group(1) if k else "unknown")


def flow_kcat(broker):
    b = broker.bootstrap
    cid = CLIENT_IDS["kcat"]
    common = ["-b", b, "-X", "client.id=" + cid, "-X", "socket.timeout.ms=10000", "-m", "5"]
    # 1. metadata listing (all topics, then one topic)
    run_cmd(["kcat"] + common + ["-L"], 20)
    run_cmd(["kcat"] + common + ["-L", "-t", TOPIC], 20)
    # 2. produce one keyed message
    run_cmd(["kcat"] + common + ["-P", "-t", TOPIC, "-p", "0", "-K:", "-X", "acks=all", "-X", "linger.ms=5"], 30, stdin=b"k1:v1\n")
    # 2b. the same with the idempotent producer (InitProducerId + producer id/epoch/sequence in the batch)
    run_cmd(["kcat"] + common + ["-P", "-t", TOPIC, "-p", "0", "-K:", "-X", "acks=all", "-X", "linger.ms=5",
                                 "-X", "enable.idempotence=true"], 30, stdin=b"k1:v1\n")
    # 3. simple consumer from the beginning, one message
    run_cmd(["kcat"] + common + ["-C", "-t", TOPIC, "-p", "0", "-o", "beginning", "-c", "1", "-e", "-f", "%k:%s\n"], 30)
    # 4. balanced consumer group, stopped with SIGINT after a few seconds
    cmd = ["kcat"] + common + [
        "-G", GROUP, "-X", "heartbeat.interval.ms=500", "-X", "session.timeout.ms=10000",
        "-X", "auto.commit.interval.ms=1000", "-X", "auto.offset.reset=earliest", "-f", "%k:%s\n", TOPIC,
    ]
    log("run: %s" % " ".join(cmd))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(7)
    p.send_signal(2)
    try:
        out, err = p.communicate(timeout=15)
        log("  rc=%s stdout=%r stderr=%r" % (p.returncode, out[-300:], err[-500:]))
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        log("  kcat -G did not stop after SIGINT; killed")


RDKAFKA_SCRIPT = r"""
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
b, cid, topic, group = sys.argv[1:5]
base = {"bootstrap.servers": b, "client.id": cid, "socket.timeout.ms": 10000}
a = AdminClient(dict(base))
md = a.list_topics(timeout=10)
print("topics", sorted(md.topics))
def dr(err, msg):
    print("delivery", err, msg.topic() if msg else None, msg.partition() if msg else None, msg.offset() if msg else None)
p = Producer(dict(base, **{"acks": "all", "linger.ms": 5}))
p.produce(topic, key=b"k1", value=b"v1", headers=[("h1", b"x")], partition=0, on_delivery=dr)
print("flush", p.flush(15))
pi = Producer(dict(base, **{"enable.idempotence": True, "acks": "all", "linger.ms": 5}))
pi.produce(topic, key=b"k1", value=b"v1", headers=[("h1", b"x")], partition=0, on_delivery=dr)
print("flush idempotent", pi.flush(15))
c = Consumer(dict(base, **{"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
                           "session.timeout.ms": 10000, "heartbeat.interval.ms": 500}))
c.subscribe([topic])
msg = None
deadline = time.time() + 20
while time.time() < deadline:
    m = c.poll(0.5)
    if m is None:
        continue
    if m.error():
        print("consumer error", m.error())
        continue
    msg = m
    print("consumed", m.key(), m.value(), m.headers(), m.offset())
    break
if msg is not None:
    print("commit", c.commit(message=msg, asynchronous=False))
end = time.time() + 2.5
while time.time() < end:
    c.poll(0.2)
c.close()
print("closed")
"""


def flow_rdkafka(broker, python):
    run_cmd([python, "-c", RDKAFKA_SCRIPT, broker.bootstrap, CLIENT_IDS["rdkafka"], TOPIC, GROUP], 90)


KAFKA_PYTHON_SCRIPT = r"""
import sys, time, logging
from kafka import KafkaProducer, KafkaConsumer
b, cid, topic, group = sys.argv[1:5]
for idempotent in (False, True):
    p = KafkaProducer(bootstrap_servers=b, client_id=cid, acks="all", linger_ms=5, enable_idempotence=idempotent)
    fut = p.send(topic, key=b"k1", value=b"v1", partition=0)
    p.flush(timeout=15)
    print("sent", idempotent, fut.get(timeout=5))
    p.close(timeout=5)
c = KafkaConsumer(topic, bootstrap_servers=b, client_id=cid, group_id=group, auto_offset_reset="earliest",
                  enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=500)
got = None
deadline = time.time() + 20
while time.time() < deadline and got is None:
    recs = c.poll(timeout_ms=500)
    for tp, msgs in recs.items():
        for m in msgs:
            print("consumed", m.key, m.value, m.offset)
            got = m
if got is not None:
    c.commit()
    print("committed")
end = time.time() + 2.5
while time.time() < end:
    c.poll(timeout_ms=200)
c.close()
print("closed")
"""


def flow_kafka_python(broker, python):
    run_cmd([python, "-c", KAFKA_PYTHON_SCRIPT, broker.bootstrap, CLIENT_IDS["kafka-python"], TOPIC, GROUP], 90)


# ---------------------------------------------------------------------------
# Fixture writing
# ---------------------------------------------------------------------------


def lower_first(name):
    return name[:1].lower() + name[1:]


def flatten(value, prefix, out):
    """Flatten a decoded message into "a.b[0].c" style paths.

    Strings, ints, bools and nulls keep their value; uuids become 32 lowercase
    hex digits; bytes/records become "<path>.byteLength"; arrays also get
    "<path>.count".
    """
    if isinstance(value, dict):
        for k, v in value.items():
            if k.startswith("_"):
                continue
            flatten(v, (prefix + "." if prefix else "") + lower_first(k), out)
    elif isinstance(value, list):
        out[prefix + ".count"] = len(value)
        for i, v in enumerate(value):
            flatten(v, "%s[%d]" % (prefix, i), out)
    elif isinstance(value, (bytes, bytearray)):
        out[prefix] = None  # placeholder, replaced by caller for uuids
        del out[prefix]
        out[prefix + ".byteLength"] = len(value)
    else:
        out[prefix] = value


def flatten_with_uuids(codec, decoded, version):
    """Flatten, rendering uuid fields as hex instead of byteLength."""
    uuid_paths = set()

    def walk(fields, value, prefix):
        for f in fields:
            if f["name"] not in value:
                continue
            v = value[f["name"]]
            path = (prefix + "." if prefix else "") + lower_first(f["name"])
            t, is_array = codec.base_type(f)
            sub = codec.struct_fields(f)
            if t == "uuid" and not is_array:
                uuid_paths.add(path)
            elif is_array and sub is not None and v:
                for i, item in enumerate(v):
                    walk(sub, item, "%s[%d]" % (path, i))
            elif sub is not None and isinstance(v, dict):
                walk(sub, v, path)

    walk(codec.schema["fields"], decoded, "")
    out = {}
    flatten(decoded, "", out)
    for p in uuid_paths:
        out.pop(p + ".byteLength", None)
        # find the value again
        out[p] = None
    # fill uuid values
    def get(path):
        cur = decoded
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
            if part.startswith("["):
                cur = cur[int(part[1:-1])]
            else:
                key = next(k for k in cur if lower_first(k) == part)
                cur = cur[key]
        return cur

    for p in uuid_paths:
        out[p] = get(p).hex()
    return out


def check_config(client_key, api, decoded, expect):
    """Cross-check decoded values against what the client was configured with."""
    problems = []

    def want(path, value):
        if path in expect and expect[path] != value:
            problems.append("%s: %r != configured %r" % (path, expect[path], value))

    if api == "Produce":
        want("acks", -1)
        want("topicData[0].name", TOPIC)
        want("topicData[0].partitionData[0].index", 0)
    if api in ("JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup", "OffsetCommit"):
        want("groupId", GROUP)
    if api == "JoinGroup":
        want("sessionTimeoutMs", 10000)
        want("protocolType", "consumer")
    if api == "FindCoordinator":
        want("key", GROUP) if "key" in expect and expect.get("keyType", 0) == 0 else None
        want("coordinatorKeys[0]", GROUP) if expect.get("keyType", 0) == 0 else None
    if api == "ApiVersions":
        want("clientSoftwareName", EXPECTED_SOFTWARE.get(client_key, (None, None))[0])
        want("clientSoftwareVersion", EXPECTED_SOFTWARE.get(client_key, (None, None))[1])
    if api == "Fetch":
        want("topics[0].topic", TOPIC)
        want("topics[0].topicId", TOPIC_ID.hex())
        want("topics[0].partitions[0].partition", 0)
        want("topics[0].partitions[0].fetchOffset", 0)
    if api == "SyncGroup":
        want("generationId", 1)
    if api == "OffsetCommit":
        want("topics[0].name", TOPIC)
        want("topics[0].partitions[0].partitionIndex", 0)
        want("topics[0].partitions[0].committedOffset", 1)
    return problems


def variant_of(schemas, frame, body):
    """Frames of one (API, version) whose shape differs enough to keep apart."""
    if frame.api_key == 3:
        if body["Topics"] is None:
            return "allTopics"
        if not body["Topics"]:
            return "brokersOnly"
    if frame.api_key == 0:
        for t in body["TopicData"]:
            for p in t["PartitionData"]:
                for b in decode_record_batches(p["Records"] or b""):
                    if b.get("producerId", -1) >= 0:
                        return "idempotent"
    if frame.api_key == 11 and body["MemberId"]:
        return "withMemberId"
    return ""


REQUIRED_APIS = ["ApiVersions", "Metadata", "Produce", "Fetch", "FindCoordinator", "JoinGroup", "SyncGroup", "OffsetCommit"]

EXPECTED_SOFTWARE = {}  # client label -> (clientSoftwareName, clientSoftwareVersion), filled in main()


def decode_embedded(schemas, api, body):
    """Decode consumer-protocol payloads carried as bytes (2-byte version prefix)."""
    out = {}

    def dec(name, raw):
        if not raw or len(raw) < 2:
            return None
        codec = Codec(schemas.by_name[name])
        (ver,) = struct.unpack(">h", raw[:2])
        r = Reader(raw, 2)
        value = codec.decode(r, min(ver, parse_versions(codec.schema["validVersions"])[1]))
        flat = {"version": ver}
        flatten(value, "", flat)
        flat["trailingBytes"] = r.remaining()
        return flat

    if api == "JoinGroup":
        for i, p in enumerate(body["Protocols"]):
            out["protocols[%d].metadata" % i] = dec("ConsumerProtocolSubscription", p["Metadata"])
    if api == "SyncGroup":
        for i, a in enumerate(body.get("Assignments") or []):
            out["assignments[%d].assignment" % i] = dec("ConsumerProtocolAssignment", a["Assignment"])
    return out


def representative(frames):
    """Pick one frame: the first mentioning the golden topic (name or id), else
    the first mentioning the golden group, else the first."""
    for f in frames:
        if TOPIC.encode() in f.data or TOPIC_ID in f.data:
            return f
    for f in frames:
        if GROUP.encode() in f.data:
            return f
    return frames[0]


def write_fixtures(schemas, broker, out_dir, clients):
    """clients: list of (label, dirname, version string)."""
    manifest = []
    problems = list(broker.errors)
    hdr_codec = Codec(schemas.request_header)
    for label, dirname, version in clients:
        frames = [f for f in broker.frames if f.label == label]
        groups = {}
        for f in frames:
            hv = schemas.request_header_version(f.api_key, f.api_version)
            r = Reader(f.data)
            hdr_codec.decode(r, hv)
            body = Codec(schemas.requests[f.api_key]).decode(r, f.api_version)
            groups.setdefault((f.api_key, f.api_version, variant_of(schemas, f, body)), []).append(f)
        cdir = os.path.join(out_dir, dirname)
        os.makedirs(cdir, exist_ok=True)
        for (key, ver, variant), fs in sorted(groups.items()):
            f = representative(fs)
            api = schemas.api_name(key)
            codec = Codec(schemas.requests[key])
            hv = schemas.request_header_version(key, ver)
            r = Reader(f.data)
            header = hdr_codec.decode(r, hv)
            body = codec.decode(r, ver)
            trailing = r.remaining()
            reencoded = hdr_codec.encode(header, hv) + codec.encode(body, ver)
            if reencoded != f.data[: len(f.data) - trailing]:
                problems.append("%s %s v%d: re-encoding the decoded frame does not reproduce it" % (label, api, ver))
            expect = flatten_with_uuids(codec, body, ver)
            problems += ["%s %s v%d: %s" % (label, api, ver, p) for p in check_config(label, api, body, expect)]
            fname = "%s-v%d%s.bin" % (api, ver, "-" + variant if variant else "")
            with open(os.path.join(cdir, fname), "wb") as fh:
                fh.write(f.data)
            entry = {
                "file": "%s/%s" % (dirname, fname),
                "client": "kcat" if dirname.startswith("kcat") else dirname.rsplit("-", 1)[0],
                "clientVersion": version,
                "apiKey": key,
                "apiName": api,
                "apiVersion": ver,
                "headerVersion": hv,
                "correlationId": header["CorrelationId"],
                "clientId": header.get("ClientId"),
                "variant": variant or None,
                "byteLength": len(f.data),
                "trailingBytes": trailing,
                "framesSeen": len(fs),
                "expect": expect,
            }
            embedded = decode_embedded(schemas, api, body)
            if embedded:
                entry["embedded"] = embedded
            if key == 0:
                batches = []
                for t in body["TopicData"]:
                    for p in t["PartitionData"]:
                        if p["Records"]:
                            batches += decode_record_batches(p["Records"])
                entry["recordBatches"] = batches
                for bt in batches:
                    if not bt.get("crcValid"):
                        problems.append("%s Produce v%d: record batch CRC mismatch" % (label, ver))
                    for rec in bt.get("records", []):
                        if rec["key"] != "k1" or rec["value"] != "v1":
                            problems.append("%s Produce v%d: unexpected record %r" % (label, ver, rec))
            manifest.append(entry)
        seen = {schemas.api_name(k) for k, _, _ in groups}
        for api in REQUIRED_APIS:
            if api not in seen:
                problems.append("%s: no %s request captured" % (label, api))
        log("%s: %d frames, %d distinct (api, version)" % (label, len(frames), len(groups)))
    return manifest, problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schemas", default=os.path.join(os.path.dirname(repo), "shared", "kafka-protocol", "messages"))
    ap.add_argument("--out", default=os.path.join(repo, "Tests", "KafkaProtocolTests", "Fixtures", "golden"))
    ap.add_argument("--python", default=sys.executable, help="interpreter with confluent-kafka and kafka-python")
    ap.add_argument("--clients", default="rdkafka,kcat,kafka-python")
    ap.add_argument("--dump-all", metavar="DIR", help="also write every captured frame to DIR (debugging)")
    args = ap.parse_args()

    schemas = Schemas(args.schemas)
    broker = FakeBroker(schemas, log=log)
    log("fake broker on %s" % broker.bootstrap)

    ver_out = subprocess.run(
        [args.python, "-c", "import confluent_kafka, kafka; print(confluent_kafka.libversion()[0]); print(confluent_kafka.__version__); print(kafka.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    rdkafka_version, confluent_version, kafka_python_version = ver_out
    kcat_lib, kcat_ver = kcat_version()
    EXPECTED_SOFTWARE.update(
        {
            "rdkafka": ("confluent-kafka-python", "%s-rdkafka-%s" % (confluent_version, rdkafka_version)),
            "kcat": ("librdkafka", kcat_lib),
            "kafka-python": ("kafka-python", kafka_python_version),
        }
    )

    clients = []
    wanted = args.clients.split(",")
    if "rdkafka" in wanted:
        broker.label = "rdkafka"
        flow_rdkafka(broker, args.python)
        clients.append(("rdkafka", "librdkafka-" + rdkafka_version, rdkafka_version))
    if "kcat" in wanted:
        time.sleep(1)
        broker.label = "kcat"
        flow_kcat(broker)
        clients.append(("kcat", "kcat-librdkafka-" + kcat_lib, kcat_lib))
    if "kafka-python" in wanted:
        time.sleep(1)
        broker.label = "kafka-python"
        flow_kafka_python(broker, args.python)
        clients.append(("kafka-python", "kafka-python-" + kafka_python_version, kafka_python_version))
    time.sleep(1)
    broker.stop()

    # Frames from a previous flow's lingering connection would carry another client id.
    for f in broker.frames:
        hv = schemas.request_header_version(f.api_key, f.api_version)
        cid = Codec(schemas.request_header).decode(Reader(f.data), hv).get("ClientId")
        if cid != CLIENT_IDS.get(f.label):
            f.label = None

    if args.dump_all:
        os.makedirs(args.dump_all, exist_ok=True)
        for i, f in enumerate(broker.frames):
            name = "%04d-%s-%s-v%d.bin" % (i, f.label, schemas.api_name(f.api_key), f.api_version)
            with open(os.path.join(args.dump_all, name), "wb") as fh:
                fh.write(f.data)
    for _, dirname, _ in clients:
        shutil.rmtree(os.path.join(args.out, dirname), ignore_errors=True)
    manifest, problems = write_fixtures(schemas, broker, args.out, clients)
    meta = {
        "rdkafka": {"confluentKafka": confluent_version},
        "kcat": {"kcat": kcat_ver},
    }
    for e in manifest:
        for label, dirname, _ in clients:
            if e["file"].startswith(dirname + "/") and label in meta:
                e["clientPackage"] = meta[label]
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=False)
        fh.write("\n")
    for p in problems:
        log("PROBLEM: %s" % p)
    log("wrote %d fixtures" % len(manifest))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
