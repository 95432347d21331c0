"""Hostile and buggy clients: every input gets Kafka's answer or a closed connection, and the broker stays
bounded and keeps serving others. Each test sends the input, checks the answer or the bound, then checks that
an ordinary client still works."""
import os
import pathlib
import signal
import socket
import struct
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kafka_wire import frame, read_response

INT32_MAX = 2**31 - 1


def open_descriptors(broker) -> int:
    return len(os.listdir(f"/proc/{broker.process.pid}/fd"))


def resident_mb(broker) -> float:
    for line in pathlib.Path(f"/proc/{broker.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def round_trip(bootstrap: str, topic: str, count: int = 20):
    """Produces `count` records with acks=all and reads them back: the broker still serves."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    errors = []
    for i in range(count):
        producer.produce(topic, value=f"v{i}".encode(), partition=0,
                         on_delivery=lambda e, m: errors.append(e) if e else None)
    assert producer.flush(20) == 0
    assert errors == []
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen = []
    deadline = time.time() + 20
    while len(seen) < count and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append(message.value())
    consumer.close()
    assert seen[:count] == [f"v{i}".encode() for i in range(count)]


def string16(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def fetch_v4_body(topic: str, partitions: int, max_wait_ms: int, min_bytes: int, max_bytes: int,
                  partition_max_bytes: int) -> bytes:
    return (struct.pack(">iiiib", -1, max_wait_ms, min_bytes, max_bytes, 0) + struct.pack(">i", 1) + string16(topic)
            + struct.pack(">i", partitions) + struct.pack(">iqi", 0, 0, partition_max_bytes) * partitions)


def fill(bootstrap: str, topic: str, megabytes: int):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "1", "linger.ms": 20})
    value = os.urandom(100_000)
    for _ in range(megabytes * 10):
        producer.produce(topic, value=value, partition=0)
        producer.poll(0)
    assert producer.flush(30) == 0


def test_parked_fetches_end_with_their_connections(broker):
    AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic="parked", timeout=10)
    baseline = open_descriptors(broker)
    sockets = []
    for i in range(300):
        sock = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
        sock.sendall(frame(1, 4, i, fetch_v4_body("parked", 1, INT32_MAX, 1, 1 << 20, 1 << 20)))
        sockets.append(sock)
    time.sleep(0.5)
    for sock in sockets:
        sock.close()
    time.sleep(1.0)
    assert open_descriptors(broker) <= baseline + 10
    started = time.monotonic()
    round_trip(broker.bootstrap, "parked", 200)
    assert time.monotonic() - started < 20


def test_client_that_never_reads_holds_bounded_memory_and_descriptors(broker_factory):
    broker = broker_factory(queued_max_requests=50)
    AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic="unread", timeout=10)
    fill(broker.bootstrap, "unread", 8)
    baseline_fds, baseline_rss = open_descriptors(broker), resident_mb(broker)
    request = frame(1, 4, 1, fetch_v4_body("unread", 20, 0, 1, INT32_MAX, 1 << 20))
    sock = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    sent = 0
    deadline = time.time() + 10
    while sent < 3000 and time.time() < deadline:
        try:
            sock.sendall(request)
            sent += 1
        except BlockingIOError:
            time.sleep(0.01)
    time.sleep(1.0)
    # 50 requests in flight at most, each holding at most 20 descriptors until written.
    assert open_descriptors(broker) <= baseline_fds + 50 * 20 + 20
    assert resident_mb(broker) - baseline_rss < 300
    round_trip(broker.bootstrap, "unread-other")
    sock.close()


def test_fetch_naming_one_partition_thousands_of_times_stays_within_fetch_max_bytes(broker):
    AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic="wide", timeout=10)
    fill(broker.bootstrap, "wide", 3)
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as sock:
        sock.sendall(frame(1, 4, 9, fetch_v4_body("wide", 2100, 0, 1, INT32_MAX, INT32_MAX)))
        answer = read_response(sock)
    assert len(answer) < 57_671_680 + 2100 * 64 + 4 * 1024 * 1024
    round_trip(broker.bootstrap, "wide-after")


def test_client_writes_to_internal_topics_are_refused(broker):
    AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic="internal-src", timeout=10)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "g-internal"})
    consumer.assign([TopicPartition("internal-src", 0, 0)])
    consumer.commit(offsets=[TopicPartition("internal-src", 0, 1)], asynchronous=False)
    consumer.close()
    errors = []
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    producer.produce("__consumer_offsets", key=b"\xff\xff", value=b"\xff" * 40, partition=0,
                     on_delivery=lambda e, m: errors.append(e))
    producer.flush(20)
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].code() == KafkaError.TOPIC_EXCEPTION
    broker.restart()
    round_trip(broker.bootstrap, "after-internal")


def test_max_connections_per_ip_closes_connections_past_the_limit(broker_factory):
    broker = broker_factory(max_connections_per_ip=4)
    time.sleep(1.0)  # the fixture's readiness probe connection must be closed and released first
    held = [socket.create_connection(("127.0.0.1", broker.port), timeout=5) for _ in range(4)]
    time.sleep(0.3)
    for index, sock in enumerate(held):  # all four are served
        sock.sendall(frame(18, 0, 50 + index, b""))
        assert struct.unpack(">i", read_response(sock)[:4])[0] == 50 + index
    extra = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
    extra.settimeout(5)
    assert extra.recv(1) == b""
    extra.close()
    for sock in held:
        sock.close()
    time.sleep(0.3)
    round_trip(broker.bootstrap, "after-limit")


def test_sasl_handshake_on_a_plaintext_listener_gets_illegal_sasl_state(broker):
    with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as sock:
        sock.sendall(frame(17, 1, 3, string16("PLAIN")))
        answer = read_response(sock)
    correlation, error_code = struct.unpack(">ih", answer[:6])
    assert (correlation, error_code) == (3, 34)


def test_describe_groups_with_millions_of_ids_is_refused_within_memory(broker):
    count = 5_000_000
    body = b""
    value = count + 1
    while True:  # compact array length as an unsigned varint
        byte = value & 0x7F
        value >>= 7
        body += bytes([byte | (0x80 if value else 0)])
        if not value:
            break
    body += b"\x01" * count + b"\x00\x00"
    payload = struct.pack(">hhi", 15, 5, 11) + string16("raw") + b"\x00" + body
    before = resident_mb(broker)
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as sock:
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        sock.settimeout(30)
        try:
            closed = sock.recv(1) == b""
        except ConnectionResetError:
            closed = True
    assert closed
    assert resident_mb(broker) - before < 300
    round_trip(broker.bootstrap, "after-describe")


def test_topic_names_of_249_characters_work_end_to_end(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    names = ["t" * 249, "u" * 241, "v" * 230]
    for future in admin.create_topics([NewTopic(name, 2) for name in names]).values():
        future.result(20)
    for name in names:
        round_trip(broker.bootstrap, name, 5)
    for future in admin.delete_topics([names[2]]).values():
        future.result(20)
    broker.restart()
    listed = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics
    assert names[0] in listed and names[1] in listed and names[2] not in listed
    assert not any(entry.name.startswith("v" * 200) for entry in broker.data_dir.iterdir())


def test_create_topics_past_the_partition_budget_is_refused(broker_factory):
    broker = broker_factory(max_partitions=60)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("fits", 40)])["fits"].result(20)
    try:
        admin.create_topics([NewTopic("too-many", 40)])["too-many"].result(20)
        raise AssertionError("creation past the budget succeeded")
    except Exception as error:  # KafkaException carrying INVALID_PARTITIONS
        assert error.args[0].code() == KafkaError.INVALID_PARTITIONS
    round_trip(broker.bootstrap, "fits")


def test_crafted_topic_metadata_does_not_stop_start_up(broker):
    round_trip(broker.bootstrap, "kept")
    broker.stop()
    (broker.data_dir / "topic-metadata" / "crafted.properties").write_text(
        "topic.id=0123456789abcdef0123456789abcdef\npartitions=3000000000\n")
    broker.start()
    round_trip(broker.bootstrap, "kept-after")
    listed = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics
    assert "kept" in listed and "crafted" not in listed


def test_partial_frames_of_many_connections_share_one_memory_pool(broker_factory):
    broker = broker_factory(queued_max_request_bytes=20_000_000)
    before = resident_mb(broker)
    sockets = []
    chunk = b"\x00" * 65536
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
        sock.setblocking(False)
        sock.send(struct.pack(">i", 90_000_000))
        sockets.append([sock, 0])
    deadline = time.time() + 8
    while time.time() < deadline:
        progressed = False
        for entry in sockets:
            if entry[1] >= 60_000_000:
                continue
            try:
                entry[1] += entry[0].send(chunk)
                progressed = True
            except BlockingIOError:
                pass
        if not progressed:
            time.sleep(0.05)
    time.sleep(0.5)
    grown = resident_mb(broker) - before
    # One 90 MB frame may take the pool; the others wait with what one read burst brought in.
    assert grown < 160, f"partial frames grew the broker by {grown:.0f} MB"
    for entry in sockets:
        entry[0].close()
    round_trip(broker.bootstrap, "after-partial")


def raw_produce(broker, topic: str, records: bytes, correlation: int = 21) -> int:
    from kafka_wire import produce_v3, produce_v3_error
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as sock:
        sock.sendall(frame(0, 3, correlation, produce_v3(topic, 0, records)))
        return produce_v3_error(read_response(sock))


def test_lying_batches_are_refused_and_acknowledged_records_survive_kill_9(broker):
    from kafka_wire import record_batch
    AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic="lying", timeout=10)
    lying = record_batch([], record_count=INT32_MAX, last_offset_delta=INT32_MAX - 1)
    assert len(lying) == 61
    assert raw_produce(broker, "lying", lying + lying) in (2, 87)  # CORRUPT_MESSAGE or INVALID_RECORD
    acked = []
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 0})
    for i in range(200):
        producer.produce("lying", value=f"acked-{i}".encode(), partition=0,
                         on_delivery=lambda e, m: acked.append(m.value()) if e is None else None)
        producer.poll(0)
        if i % 20 == 0:
            assert raw_produce(broker, "lying", lying, correlation=100 + i) in (2, 87)
    assert producer.flush(20) == 0
    assert len(acked) == 200
    logs = list((broker.data_dir / "lying-0").glob("*.log"))
    assert len(logs) == 1, "a refused batch must not roll segments"
    broker.stop(signal.SIGKILL)
    broker.start()
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition("lying", 0, 0)])
    seen = []
    deadline = time.time() + 20
    while len(seen) < 200 and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append(message.value())
    consumer.close()
    assert seen == acked


def test_records_that_contradict_their_header_are_refused(broker):
    from kafka_wire import record, record_batch
    AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic="contradict", timeout=10)
    two = [record(0, b"a"), record(1, b"b")]
    assert raw_produce(broker, "contradict", record_batch(two, record_count=3)) in (2, 87)
    assert raw_produce(broker, "contradict", record_batch(two, last_offset_delta=5)) in (2, 87)
    assert raw_produce(broker, "contradict", record_batch([record(0, b"a"), record(7, b"b")])) in (2, 87)
    assert raw_produce(broker, "contradict", record_batch(two, attributes=0x20)) == 87  # client control batch
    assert raw_produce(broker, "contradict", record_batch(two, attributes=0x10, producer_id=1, producer_epoch=0,
                                                          base_sequence=0)) != 0  # transactional, no transaction
    assert raw_produce(broker, "contradict", record_batch(two)) == 0
    round_trip(broker.bootstrap, "contradict-after")


def test_decompression_budget_is_one_total_per_produce_request(broker):
    """Four partitions of one request, each a gzip batch inflating to 24 MiB: each alone fits the 64 MiB budget,
    the request as a whole does not. The partitions past the total get MESSAGE_TOO_LARGE; the others are stored."""
    import gzip
    from kafka_wire import record, record_batch
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("bombs", num_partitions=4, replication_factor=1)])["bombs"].result(20)
    inflated = gzip.compress(record(0, b"\0" * (24 << 20)), 9)
    batch = record_batch([inflated], record_count=1, last_offset_delta=0, attributes=1)
    assert len(batch) < 100_000
    name = b"bombs"
    body = struct.pack(">hhi", -1, -1, 30_000) + struct.pack(">i", 1) + struct.pack(">h", len(name)) + name
    body += struct.pack(">i", 4)
    for partition in range(4):
        body += struct.pack(">i", partition) + struct.pack(">i", len(batch)) + batch
    with socket.create_connection(("127.0.0.1", broker.port), timeout=30) as sock:
        sock.sendall(frame(0, 3, 7, body))
        answer = read_response(sock)
    at = 8 + 2 + len(name) + 4  # correlation id, response count, name, partition count
    errors = {}
    for _ in range(4):
        partition, error = struct.unpack(">ih", answer[at:at + 6])
        errors[partition] = error
        at += 4 + 2 + 8 + 8
    assert errors == {0: 0, 1: 0, 2: 10, 3: 10}
    round_trip(broker.bootstrap, "after-bombs")


def test_idle_partitions_hold_no_segment_descriptors(broker_factory):
    broker = broker_factory(**{"log.retention.check.interval.ms": 300})
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("idle", num_partitions=200, replication_factor=1)])["idle"].result(20)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    for partition in range(200):
        producer.produce("idle", value=b"x", partition=partition)
    assert producer.flush(20) == 0
    busy = open_descriptors(broker)
    # Two maintenance passes close every descriptor nothing used in between.
    deadline = time.time() + 20
    while open_descriptors(broker) > busy - 150 and time.time() < deadline:
        time.sleep(0.2)
    assert open_descriptors(broker) <= busy - 150
    # The partitions still serve: reads and appends reopen their files.
    for partition in (0, 199):
        producer.produce("idle", value=b"y", partition=partition)
    assert producer.flush(20) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition("idle", 0, 0), TopicPartition("idle", 199, 0)])
    seen = []
    deadline = time.time() + 20
    while len(seen) < 4 and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append((message.partition(), message.value()))
    consumer.close()
    assert sorted(seen) == [(0, b"x"), (0, b"y"), (199, b"x"), (199, b"y")]
