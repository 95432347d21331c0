"""SASL/OAUTHBEARER with Kafka's default unsecured-token validation: confluent-kafka's built-in unsecured tokens
(`sasl.oauthbearer.config`) and tokens from an `oauth_cb`; expired tokens, missing scope and malformed client
messages are refused with the RFC 7628 error exchange while the broker keeps serving."""
import base64
import json
import pathlib
import shutil
import socket
import struct
import tempfile
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from kafka_wire import frame, read_response
from security_support import SecuredBroker

JAAS = ('org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required '
        'unsecuredValidatorRequiredScope="kafka" unsecuredValidatorAllowableClockSkewMs="1000";')


@pytest.fixture(scope="module")
def oauth_broker():
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-oauth-"))
    data_dir = directory / "data"
    data_dir.mkdir()
    broker = SecuredBroker(data_dir, {"SASL_PLAINTEXT": "SASL_PLAINTEXT"}, {
        "sasl.enabled.mechanisms": "OAUTHBEARER",
        "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config": JAAS,
    })
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(directory, ignore_errors=True)


def segment(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsecured_token(claims: dict) -> str:
    return f"{segment({'alg': 'none'})}.{segment(claims)}."


def oauth_config(broker, **extra):
    return {"bootstrap.servers": broker.address("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "OAUTHBEARER", **extra}


def delivered(config, topic):
    """Produces one record; returns the delivery error (None on success) or 'auth' on an authentication error."""
    outcome, failures = [], []
    producer = Producer({**config, "message.timeout.ms": 6000,
                         "error_cb": lambda err: failures.append(err)})
    producer.produce(topic, b"value", partition=0, on_delivery=lambda err, msg: outcome.append(err))
    producer.flush(8)
    if any(err.code() == KafkaError._AUTHENTICATION for err in failures):
        return "auth"
    assert outcome, f"no delivery report ({failures})"
    return outcome[0].code() if outcome[0] else None


def test_librdkafka_unsecured_tokens_authenticate_with_the_required_scope(oauth_broker):
    config = oauth_config(oauth_broker, **{"enable.sasl.oauthbearer.unsecure.jwt": True,
                                           "sasl.oauthbearer.config": "principal=alice scope=kafka,other"})
    assert delivered(config, "oauth-topic") is None
    consumer = Consumer({**config, "group.id": "oauth-group", "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition("oauth-topic", 0, 0)])
    try:
        deadline = time.time() + 10
        message = None
        while message is None and time.time() < deadline:
            message = consumer.poll(0.5)
        assert message is not None and message.error() is None and message.value() == b"value"
    finally:
        consumer.close()
    missing_scope = oauth_config(oauth_broker, **{"enable.sasl.oauthbearer.unsecure.jwt": True,
                                                  "sasl.oauthbearer.config": "principal=alice scope=other"})
    assert delivered(missing_scope, "oauth-topic") == "auth"


def test_tokens_from_an_oauth_callback_are_validated(oauth_broker):
    def token_callback(claims):
        def callback(_config):
            return unsecured_token(claims), time.time() + 60, claims.get("sub", "nobody")
        return callback
    now = time.time()
    valid = {"sub": "bob", "iat": now, "exp": now + 60, "scope": "kafka"}
    assert delivered(oauth_config(oauth_broker, oauth_cb=token_callback(valid)), "oauth-cb") is None
    expired = {**valid, "exp": now - 120}
    assert delivered(oauth_config(oauth_broker, oauth_cb=token_callback(expired)), "oauth-cb") == "auth"
    no_subject = {key: value for key, value in valid.items() if key != "sub"}
    assert delivered(oauth_config(oauth_broker, oauth_cb=token_callback(no_subject)), "oauth-cb") == "auth"


def authenticate(sock, correlation, token: bytes):
    sock.sendall(frame(36, 1, correlation, struct.pack(">i", len(token)) + token))
    answer = read_response(sock)
    (received, error, message_length) = struct.unpack(">ihh", answer[:8])
    offset = 8 + max(message_length, 0)
    message = answer[8:offset].decode() if message_length >= 0 else None
    (auth_length,) = struct.unpack(">i", answer[offset:offset + 4])
    return received, error, message, answer[offset + 4:offset + 4 + max(auth_length, 0)]


def handshake(sock):
    mechanism = b"OAUTHBEARER"
    sock.sendall(frame(17, 1, 1, struct.pack(">h", len(mechanism)) + mechanism))
    assert struct.unpack(">ih", read_response(sock)[:6]) == (1, 0)


def test_the_rfc7628_error_exchange_and_malformed_messages(oauth_broker):
    port = oauth_broker.ports["SASL_PLAINTEXT"]
    expired = unsecured_token({"sub": "carol", "exp": time.time() - 3600, "scope": "kafka"})
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        handshake(sock)
        first = f"n,,\x01auth=Bearer {expired}\x01\x01".encode()
        # The refusal is the server's challenge: a JSON status, no error yet.
        assert authenticate(sock, 2, first) == (2, 0, None, b'{"status":"invalid_token"}')
        # The client acknowledges with a lone separator; the exchange then fails and the connection closes.
        correlation, error, message, _ = authenticate(sock, 3, b"\x01")
        assert (correlation, error) == (3, 58) and "invalid_token" in message
        assert sock.recv(1) == b""
    for malformed in (b"", b"n,,auth=Bearer x\x01\x01", b"y,,\x01auth=Bearer a.b.\x01\x01",
                      b"n,,\x01auth=Basic abc\x01\x01", b"n,,\x01auth=Bearer " + b"a" * 40000 + b"\x01\x01"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            handshake(sock)
            correlation, error, _, _ = authenticate(sock, 4, malformed)
            assert (correlation, error) == (4, 58)
            assert sock.recv(1) == b""
    # A valid token whose authorization id is someone else is refused; the broker keeps serving.
    valid = unsecured_token({"sub": "carol", "exp": time.time() + 60, "scope": ["kafka"]})
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        handshake(sock)
        assert authenticate(sock, 5, f"n,a=mallory,\x01auth=Bearer {valid}\x01\x01".encode())[1] == 58
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        handshake(sock)
        assert authenticate(sock, 6, f"n,a=carol,\x01auth=Bearer {valid}\x01ext=value\x01\x01".encode())[:2] == (6, 0)
        sock.sendall(frame(3, 1, 7, struct.pack(">i", -1)))
        assert struct.unpack(">i", read_response(sock)[:4])[0] == 7
