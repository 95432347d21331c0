"""Client telemetry (KIP-714): a client-metrics subscription set with IncrementalAlterConfigs and read back with
DescribeConfigs and ListConfigResources (raw frames: no Python client exposes CLIENT_METRICS resources), then
librdkafka (confluent-kafka) pushing its metrics, which appear on the Prometheus endpoint."""
import struct
import time
import urllib.request

from confluent_kafka import Producer
from conftest import free_port
from kafka_wire import carray, cstring, flexible_exchange

CLIENT_METRICS = 16
TIMEOUT = 30


def alter_subscription(port, name, changes):
    """IncrementalAlterConfigs v1 on a CLIENT_METRICS resource: (error, message)."""
    configs = carray([cstring(key) + struct.pack(">b", operation) + cstring(value) + b"\x00"
                      for key, operation, value in changes])
    body = carray([struct.pack(">b", CLIENT_METRICS) + cstring(name) + configs + b"\x00"]) + b"\x00" + b"\x00"
    answer = flexible_exchange(port, 44, 1, body)
    answer.int(">i")
    [result] = answer.array(lambda: (answer.int(">h"), answer.string(), answer.int(">b"), answer.string(), answer.tags()))
    return result[0], result[1]


def describe_subscription(port, name):
    """DescribeConfigs v4 of a CLIENT_METRICS resource: (error, {name: (value, source)})."""
    body = carray([struct.pack(">b", CLIENT_METRICS) + cstring(name) + b"\x00" + b"\x00"]) + b"\x00\x00" + b"\x00"
    answer = flexible_exchange(port, 32, 4, body)
    answer.int(">i")

    def config():
        name, value = answer.string(), answer.string()
        answer.int(">?")
        source = answer.int(">b")
        answer.int(">?")
        answer.array(lambda: (answer.string(), answer.string(), answer.int(">b"), answer.tags()))
        answer.int(">b"), answer.string()
        answer.tags()
        return name, (value, source)

    def result():
        error = answer.int(">h")
        answer.string(), answer.int(">b"), answer.string()
        configs = dict(answer.array(config))
        answer.tags()
        return error, configs

    return answer.array(result)[0]


def list_config_resources(port, types):
    body = carray([struct.pack(">b", t) for t in types]) + b"\x00"
    answer = flexible_exchange(port, 74, 1, body)
    answer.int(">i")
    error = answer.int(">h")
    resources = answer.array(lambda: (answer.string(), answer.int(">b"), answer.tags())[:2])
    return error, resources


def test_subscriptions_are_configured_as_kafka_client_metrics_resources(broker):
    assert alter_subscription(broker.port, "", [("metrics", 0, "*")])[0] == 42
    assert alter_subscription(broker.port, "subs", [("interval.ms", 0, "10")]) == (
        42, "Invalid value 10 for interval.ms, interval must be between 100 and 3600000 (1 hour)")
    assert alter_subscription(broker.port, "subs", [("match", 0, "colour=red")]) == (
        40, "Illegal client matching pattern: colour=red")
    assert alter_subscription(broker.port, "subs", [("metrics", 0, "org.apache.kafka.producer."),
                                                    ("interval.ms", 0, "1000")]) == (0, None)
    assert alter_subscription(broker.port, "subs", [("metrics", 2, "org.apache.kafka.consumer.")]) == (0, None)
    error, configs = describe_subscription(broker.port, "subs")
    assert error == 0
    assert configs == {"metrics": ("org.apache.kafka.producer.,org.apache.kafka.consumer.", 7), "interval.ms": ("1000", 7)}
    assert describe_subscription(broker.port, "none") == (0, {})
    assert list_config_resources(broker.port, [CLIENT_METRICS]) == (0, [("subs", CLIENT_METRICS)])
    broker.restart()
    assert list_config_resources(broker.port, [CLIENT_METRICS]) == (0, [("subs", CLIENT_METRICS)])
    assert alter_subscription(broker.port, "subs", [("metrics", 1, None), ("interval.ms", 1, None)]) == (0, None)
    assert list_config_resources(broker.port, [CLIENT_METRICS]) == (0, [])


def scrape(port):
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()


def test_librdkafka_pushes_its_metrics_to_the_prometheus_endpoint(broker_factory):
    metrics_port = free_port()
    broker = broker_factory(metrics_listener=f"http://127.0.0.1:{metrics_port}")
    assert alter_subscription(broker.port, "everything", [
        ("metrics", 0, "*"), ("interval.ms", 0, "500"), ("match", 0, "client_id=telemetry-.*"),
    ]) == (0, None)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "client.id": "telemetry-app"})
    other = Producer({"bootstrap.servers": broker.bootstrap, "client.id": "unmatched"})
    try:
        deadline = time.time() + TIMEOUT
        pushed = []
        while time.time() < deadline and not pushed:
            producer.produce("telemetry", value=b"x")
            other.produce("telemetry", value=b"y")
            producer.poll(0.2)
            other.poll(0.2)
            pushed = [line for line in scrape(metrics_port).splitlines()
                      if line.startswith("org_apache_kafka_") and 'client_id="telemetry-app"' in line]
        assert pushed, "no telemetry pushed by librdkafka"
        assert all("client_instance_id=" in line for line in pushed)
        assert not [line for line in scrape(metrics_port).splitlines() if 'client_id="unmatched"' in line]
        producer.flush(10)
        other.flush(10)
    finally:
        del producer, other
