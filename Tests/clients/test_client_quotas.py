"""Client quotas: AlterClientQuotas/DescribeClientQuotas over raw frames (no Python client exposes them), then
producer_byte_rate and consumer_byte_rate enforced on confluent-kafka clients, measured against the quota."""
import socket
import struct
import time
import urllib.request

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from conftest import free_port
from kafka_wire import frame, read_response

TIMEOUT = 10


def string(value):
    if value is None:
        return struct.pack(">h", -1)
    return struct.pack(">h", len(value)) + value.encode()


def exchange(port, api_key, body):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(frame(api_key, 0, 5, body))
        return read_response(sock)[4:]


def alter_quotas(port, entity, ops):
    body = struct.pack(">i", 1) + struct.pack(">i", len(entity))
    for entity_type, name in entity:
        body += string(entity_type) + string(name)
    body += struct.pack(">i", len(ops))
    for key, value in ops:
        body += string(key) + struct.pack(">d?", value or 0.0, value is None)
    body += struct.pack(">?", False)
    answer = exchange(port, 49, body)
    error = struct.unpack(">h", answer[8:10])[0]
    return error


def describe_quotas(port, components, strict=False):
    body = struct.pack(">i", len(components))
    for entity_type, match_type, match in components:
        body += string(entity_type) + struct.pack(">b", match_type) + string(match)
    body += struct.pack(">?", strict)
    answer = exchange(port, 48, body)
    at = 4
    error = struct.unpack(">h", answer[at:at + 2])[0]
    at += 2
    length = struct.unpack(">h", answer[at:at + 2])[0]
    at += 2 + max(length, 0)
    count = struct.unpack(">i", answer[at:at + 4])[0]
    return error, count


def test_quotas_are_altered_described_and_kept_across_a_restart(broker):
    assert alter_quotas(broker.port, [("client-id", "app")], [("producer_byte_rate", 1024.0)]) == 0
    assert alter_quotas(broker.port, [("user", None)], [("consumer_byte_rate", 2048.0)]) == 0
    assert alter_quotas(broker.port, [("client-id", "app")], [("producer_byte_rate", 1.5)]) == 42
    assert describe_quotas(broker.port, []) == (0, 2)
    assert describe_quotas(broker.port, [("client-id", 0, "app")]) == (0, 1)
    assert describe_quotas(broker.port, [("user", 1, None)], strict=True) == (0, 1)
    assert describe_quotas(broker.port, [("user", 0, None)])[0] == 42
    broker.restart()
    assert describe_quotas(broker.port, []) == (0, 2)
    assert alter_quotas(broker.port, [("client-id", "app")], [("producer_byte_rate", None)]) == 0
    assert describe_quotas(broker.port, []) == (0, 1)


def measured_rate(marks, low, high):
    """Bytes per second between the moments `low` and `high` bytes had passed."""
    start = next(moment for total, moment in marks if total >= low)
    end = next(moment for total, moment in marks if total >= high)
    return (high - low) / (end - start)


def test_producer_and_consumer_byte_rates_are_enforced(broker_factory):
    metrics_port = free_port()
    broker = broker_factory(quota_window_num=2, metrics_listener=f"http://127.0.0.1:{metrics_port}")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("quota", 1, 1)])["quota"].result(timeout=TIMEOUT)
    rate = 400_000
    assert alter_quotas(broker.port, [("client-id", "slow-producer")], [("producer_byte_rate", float(rate))]) == 0
    assert alter_quotas(broker.port, [("client-id", "slow-consumer")], [("consumer_byte_rate", float(rate))]) == 0

    value = b"x" * 1000
    producer = Producer({"bootstrap.servers": broker.bootstrap, "client.id": "slow-producer", "linger.ms": 5,
                         "batch.size": 16384, "message.timeout.ms": 60000, "queue.buffering.max.kbytes": 200000})
    marks = []
    delivered = [0]

    def on_delivery(error, message):
        assert error is None, error
        delivered[0] += len(message.value())
        marks.append((delivered[0], time.monotonic()))

    count = 2400
    for _ in range(count):
        producer.produce("quota", value=value, on_delivery=on_delivery)
        producer.poll(0)
    assert producer.flush(60) == 0
    produced = measured_rate(marks, 400_000, 2_000_000)
    print(f"produce rate {produced:.0f} B/s under a {rate} B/s quota")
    assert 0.8 * rate < produced < 1.2 * rate, f"produce rate {produced:.0f} B/s under a {rate} B/s quota"

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "client.id": "slow-consumer", "group.id": "quota-g",
                         "auto.offset.reset": "earliest",
                         "max.partition.fetch.bytes": 65536})
    try:
        consumer.subscribe(["quota"])
        marks, total = [], 0
        while total < count * len(value):
            message = consumer.poll(TIMEOUT)
            assert message is not None and message.error() is None
            total += len(message.value())
            marks.append((total, time.monotonic()))
    finally:
        consumer.close()
    consumed = measured_rate(marks, 400_000, 2_000_000)
    print(f"fetch rate {consumed:.0f} B/s under a {rate} B/s quota")
    assert 0.8 * rate < consumed < 1.2 * rate, f"fetch rate {consumed:.0f} B/s under a {rate} B/s quota"

    metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    throttled = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
                 if line.startswith("portask_quota_throttled_requests_total")}
    assert throttled['portask_quota_throttled_requests_total{type="produce"}'] > 0
    assert throttled['portask_quota_throttled_requests_total{type="fetch"}'] > 0


def test_request_percentage_throttles_a_busy_client_and_only_it(broker_factory):
    metrics_port = free_port()
    broker = broker_factory(quota_window_num=2, metrics_listener=f"http://127.0.0.1:{metrics_port}")
    # A hundredth of a percent of one thread: a tenth of a millisecond of handling per second.
    assert alter_quotas(broker.port, [("client-id", "busy")], [("request_percentage", 0.01)]) == 0

    def throttle_times(client_id, count):
        """Metadata v3 requests on one connection until one is throttled: the throttle times, and how long the
        next request of the connection took."""
        times = []
        with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as sock:
            def metadata(correlation):
                sock.sendall(frame(3, 3, correlation, struct.pack(">i", -1), client_id=client_id))
                answer = read_response(sock)
                assert struct.unpack(">i", answer[:4])[0] == correlation
                return struct.unpack(">i", answer[4:8])[0]
            for correlation in range(count):
                times.append(metadata(correlation))
                if times[-1] > 0:
                    started = time.monotonic()
                    metadata(count)
                    return times, time.monotonic() - started
        return times, 0

    busy, next_delay = throttle_times(b"busy", 200)
    assert busy[-1] > 0, f"no throttle after {len(busy)} requests"
    assert busy[-1] <= 1000  # at most one quota window
    # The muted connection reads its next request only once the throttle time has passed.
    assert next_delay >= busy[-1] / 2000, (busy[-1], next_delay)
    idle, _ = throttle_times(b"idle", 20)
    assert idle == [0] * 20

    metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    throttled = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
                 if line.startswith("portask_quota_throttled_requests_total")}
    assert throttled['portask_quota_throttled_requests_total{type="request"}'] > 0
