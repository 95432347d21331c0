"""SASL sessions and re-authentication (KIP-368, `connections.max.reauth.ms`): the session lifetime in
SaslAuthenticate, connections used after their session closed, re-authentication on the wire (same principal and
mechanism, at most once a second), token expiry bounding OAUTHBEARER sessions, and librdkafka re-authenticating
by itself while it produces and consumes."""
import base64
import json
import pathlib
import re
import shutil
import socket
import struct
import tempfile
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from conftest import free_port
from kafka_wire import frame, read_response
from security_support import SecuredBroker

JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'user_alice="alice-secret" user_bob="bob-secret";')
PLAIN_SESSION_MS = 1500
SCRAM_SESSION_MS = 2500


@pytest.fixture(scope="module")
def broker():
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-reauth-"))
    data_dir = directory / "data"
    data_dir.mkdir()
    metrics_port = free_port()
    running = SecuredBroker(data_dir, {"SASL_PLAINTEXT": "SASL_PLAINTEXT"}, {
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,OAUTHBEARER",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
        "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config":
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
        # Kafka's precedence: listener and mechanism prefix over the unprefixed property.
        "connections.max.reauth.ms": "60000",
        "listener.name.sasl_plaintext.plain.connections.max.reauth.ms": str(PLAIN_SESSION_MS),
        "listener.name.sasl_plaintext.scram-sha-256.connections.max.reauth.ms": str(SCRAM_SESSION_MS),
        "scram.bootstrap.credentials": "SCRAM-SHA-256=[name=carol,password=carol-secret]",
        "metrics.listener": f"http://127.0.0.1:{metrics_port}",
    })
    running.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    running.start()
    yield running
    running.stop()
    shutil.rmtree(directory, ignore_errors=True)


def string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


class SaslConnection:
    """A raw connection speaking SaslHandshake v1 and SaslAuthenticate v0/v1."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.correlation = 0

    def request(self, api_key: int, version: int, body: bytes) -> bytes:
        self.correlation += 1
        self.sock.sendall(frame(api_key, version, self.correlation, body))
        answer = read_response(self.sock)
        assert struct.unpack(">i", answer[:4])[0] == self.correlation
        return answer[4:]

    def handshake(self, mechanism: str) -> int:
        return struct.unpack(">h", self.request(17, 1, string(mechanism))[:2])[0]

    def authenticate(self, token: bytes, version: int = 1) -> tuple:
        """Returns (error code, error message, session lifetime ms or None for v0)."""
        body = self.request(36, version, struct.pack(">i", len(token)) + token)
        error, length = struct.unpack(">hh", body[:4])
        message = body[4:4 + length].decode() if length >= 0 else None
        rest = body[4 + max(length, 0):]
        auth_length = struct.unpack(">i", rest[:4])[0]
        rest = rest[4 + max(auth_length, 0):]
        lifetime = struct.unpack(">q", rest[:8])[0] if version >= 1 else None
        return error, message, lifetime

    def plain(self, user: str, password: str, version: int = 1) -> tuple:
        assert self.handshake("PLAIN") == 0
        return self.authenticate(f"\0{user}\0{password}".encode(), version)

    def metadata_served(self) -> bool:
        """Sends Metadata v1 (no topics); True when answered, False when the broker closed the connection."""
        try:
            self.request(3, 1, struct.pack(">i", 0))
            return True
        except (ConnectionError, OSError):
            return False

    def closed(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def metric(broker, name: str) -> float:
    text = urllib.request.urlopen(broker.metrics_url, timeout=10).read().decode()
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_session_lifetime_is_announced_and_an_expired_session_is_closed(broker):
    port = broker.ports["SASL_PLAINTEXT"]
    before = metric(broker, 'portask_refusals_total{cause="session_expired"}')
    connection = SaslConnection(port)
    assert connection.plain("alice", "alice-secret") == (0, None, PLAIN_SESSION_MS)
    assert connection.metadata_served()
    time.sleep(PLAIN_SESSION_MS / 1000 + 0.3)
    assert not connection.metadata_served()
    connection.close()
    # A client of SaslAuthenticate v0 is not told the lifetime, and its session ends all the same.
    old = SaslConnection(port)
    assert old.plain("alice", "alice-secret", version=0) == (0, None, None)
    time.sleep(PLAIN_SESSION_MS / 1000 + 0.3)
    assert not old.metadata_served()
    old.close()
    assert metric(broker, 'portask_refusals_total{cause="session_expired"}') == before + 2


def test_reauthentication_extends_the_session_at_most_once_a_second(broker):
    connection = SaslConnection(broker.ports["SASL_PLAINTEXT"])
    assert connection.plain("alice", "alice-secret") == (0, None, PLAIN_SESSION_MS)
    time.sleep(1.1)
    reauthentications = metric(broker, "portask_reauthentications_total")
    assert connection.plain("alice", "alice-secret") == (0, None, PLAIN_SESSION_MS)
    assert metric(broker, "portask_reauthentications_total") == reauthentications + 1
    # Past the first session's end, the renewed session serves.
    time.sleep(0.7)
    assert connection.metadata_served()
    # A second handshake within a second of the last is no re-authentication: ILLEGAL_SASL_STATE.
    assert connection.handshake("PLAIN") == 34
    assert connection.metadata_served()
    connection.close()


def test_reauthentication_may_change_neither_principal_nor_mechanism(broker):
    port = broker.ports["SASL_PLAINTEXT"]
    connection = SaslConnection(port)
    assert connection.plain("alice", "alice-secret")[0] == 0
    time.sleep(1.05)
    error, message, _ = connection.plain("bob", "bob-secret")
    assert error == 58 and "Cannot change principals during re-authentication from User.alice: User.bob" in message
    assert connection.closed()
    connection.close()

    connection = SaslConnection(port)
    assert connection.plain("alice", "alice-secret")[0] == 0
    time.sleep(1.05)
    assert connection.handshake("SCRAM-SHA-256") == 0
    error, message, _ = connection.authenticate(b"n,,n=carol,r=nonce")
    assert error == 58 and "not supported for re-authentication of mechanism 'PLAIN'" in message
    assert connection.closed()
    connection.close()


def unsecured_token(subject: str, lifetime_seconds: float) -> str:
    def encode(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    now = time.time()
    return f'{encode({"alg": "none"})}.{encode({"sub": subject, "iat": int(now), "exp": now + lifetime_seconds})}.'


def test_a_tokens_expiry_bounds_its_session(broker):
    connection = SaslConnection(broker.ports["SASL_PLAINTEXT"])
    assert connection.handshake("OAUTHBEARER") == 0
    token = unsecured_token("dave", 3.0)
    error, message, lifetime = connection.authenticate(f"n,,\x01auth=Bearer {token}\x01\x01".encode())
    assert (error, message) == (0, None)
    # The configured 60 s are cut to what is left of the token's life.
    assert 1000 < lifetime <= 3000
    assert connection.metadata_served()
    connection.close()


def test_librdkafka_reauthenticates_by_itself_while_producing_and_consuming(broker):
    bootstrap = broker.address("SASL_PLAINTEXT")
    config = {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
              "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "carol", "sasl.password": "carol-secret"}
    errors = []
    expired_before = metric(broker, 'portask_refusals_total{cause="session_expired"}')
    reauthenticated_before = metric(broker, "portask_reauthentications_total")
    producer = Producer({**config, "linger.ms": 5, "error_cb": errors.append})
    consumer = Consumer({**config, "group.id": "reauth", "enable.auto.commit": False, "fetch.wait.max.ms": 100,
                         "error_cb": errors.append})
    consumer.assign([TopicPartition("reauth", 0, 0)])
    sent, received = [], []
    deadline = time.time() + 3 * SCRAM_SESSION_MS / 1000 + 1
    while time.time() < deadline:
        value = f"v{len(sent)}".encode()
        producer.produce("reauth", value, partition=0)
        sent.append(value)
        producer.poll(0)
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            received.append(message.value())
    assert producer.flush(20) == 0
    finish = time.time() + 20
    while len(received) < len(sent) and time.time() < finish:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            received.append(message.value())
    consumer.close()
    assert received == sent
    assert errors == []
    # Both clients' connections outlived several sessions by re-authenticating; none was closed as expired.
    assert metric(broker, "portask_reauthentications_total") >= reauthenticated_before + 4
    assert metric(broker, 'portask_refusals_total{cause="session_expired"}') == expired_before
