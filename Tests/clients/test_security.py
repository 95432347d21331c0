"""TLS and SASL listeners with real clients: confluent-kafka (librdkafka) over SSL, mutual TLS, SASL_PLAINTEXT
and SASL_SSL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; SCRAM users managed with the AdminClient; wrong
credentials, unknown mechanisms, early requests and protocol mix-ups refused while the broker keeps serving."""
import base64
import hashlib
import pathlib
import shutil
import socket
import struct
import tempfile
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, ConfigResource, ResourceType, ScramCredentialInfo, ScramMechanism, UserScramCredentialDeletion,
                                   UserScramCredentialUpsertion)

from kafka_wire import frame, read_response
from security_support import SecuredBroker, make_certificates, raw_connection_closed

JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'user_alice="alice-secret" user_admin="admin-secret";')
# SCRAM users from configuration, in kafka-storage's --add-scram syntax: one by password, one by salted password.
GRACE_SALT = b"grace-salt"
GRACE_SALTED = hashlib.pbkdf2_hmac("sha512", b"grace-secret", GRACE_SALT, 8192)
SCRAM_BOOTSTRAP = ('SCRAM-SHA-256=[name=frank,password=frank-secret];'
                   f'SCRAM-SHA-512=[name=grace,iterations=8192,salt="{base64.b64encode(GRACE_SALT).decode()}",'
                   f'saltedpassword="{base64.b64encode(GRACE_SALTED).decode()}"]')


@pytest.fixture(scope="module")
def certificates():
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-certs-"))
    yield make_certificates(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def secured(certificates):
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-secured-"))
    data_dir = directory / "data"
    data_dir.mkdir()
    c = certificates
    broker = SecuredBroker(data_dir, {"SSL": "SSL", "MTLS": "SSL", "SASL_PLAINTEXT": "SASL_PLAINTEXT",
                                      "SASL_SSL": "SASL_SSL"}, {
        "ssl.keystore.location": str(c["broker"]),
        "listener.name.mtls.ssl.client.auth": "required",
        "listener.name.mtls.ssl.truststore.location": str(c["ca"]),
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]+),OU=Clients.*$/$1/L,DEFAULT",
        # The SASL_SSL listener takes inline PEM with an encrypted key instead of the file.
        "listener.name.sasl_ssl.ssl.keystore.key": c["broker_encrypted_key"].read_text(),
        "listener.name.sasl_ssl.ssl.keystore.certificate.chain": c["broker_crt"].read_text(),
        "listener.name.sasl_ssl.ssl.key.password": "keypass",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
        "listener.name.sasl_ssl.plain.sasl.jaas.config": JAAS,
        "scram.bootstrap.credentials": SCRAM_BOOTSTRAP,
    })
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(directory, ignore_errors=True)


def ssl_config(certificates, client=None):
    config = {"security.protocol": "SSL", "ssl.ca.location": str(certificates["ca"])}
    if client:
        config["ssl.certificate.location"] = str(certificates[f"{client}_crt"])
        config["ssl.key.location"] = str(certificates[f"{client}_key"])
    return config


def sasl_config(protocol, mechanism, user, password, certificates=None):
    config = {"security.protocol": protocol, "sasl.mechanism": mechanism, "sasl.username": user,
              "sasl.password": password}
    if certificates:
        config["ssl.ca.location"] = str(certificates["ca"])
    return config


def round_trip(bootstrap, config, topic, count=20, size=1024):
    """Produces `count` values through `bootstrap` and reads them back; returns the values read."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **config})
    values = [f"{topic}-{index}-".encode().ljust(size, b"x") for index in range(count)]
    for value in values:
        producer.produce(topic, value, partition=0)
    assert producer.flush(20) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{topic}", "enable.auto.commit": False,
                         "fetch.wait.max.ms": 50, **config})
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen = []
    deadline = time.time() + 20
    while len(seen) < count and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        assert message.error() is None, message.error()
        seen.append(message.value())
    consumer.close()
    assert seen == values
    return seen


def client_errors(bootstrap, config, seconds=10):
    """The errors a producer reports while trying to connect with `config`."""
    errors = []
    producer = Producer({"bootstrap.servers": bootstrap, "error_cb": errors.append, **config})
    deadline = time.time() + seconds
    while time.time() < deadline and not errors:
        producer.poll(0.2)
    return errors


def test_ssl_listener_serves_clients_and_advertises_its_own_port(secured, certificates):
    bootstrap = secured.address("SSL")
    round_trip(bootstrap, ssl_config(certificates), "over-ssl", count=50)
    admin = AdminClient({"bootstrap.servers": bootstrap, **ssl_config(certificates)})
    brokers = admin.list_topics(timeout=10).brokers
    assert [(b.host, b.port) for b in brokers.values()] == [("127.0.0.1", secured.ports["SSL"])]
    plain = AdminClient({"bootstrap.servers": secured.bootstrap}).list_topics(timeout=10).brokers
    assert [b.port for b in plain.values()] == [secured.port]


def test_mutual_tls_requires_a_trusted_client_certificate(secured, certificates):
    bootstrap = secured.address("MTLS")
    round_trip(bootstrap, ssl_config(certificates, client="alice"), "over-mtls")
    errors = client_errors(bootstrap, ssl_config(certificates))
    assert errors and errors[0].code() in (KafkaError._SSL, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_sasl_plain_authenticates_users_of_the_jaas_config(secured, certificates, protocol):
    tls = certificates if protocol == "SASL_SSL" else None
    bootstrap = secured.address(protocol)
    round_trip(bootstrap, sasl_config(protocol, "PLAIN", "alice", "alice-secret", tls), f"plain-{protocol.lower()}")
    errors = client_errors(bootstrap, sasl_config(protocol, "PLAIN", "alice", "wrong", tls))
    assert errors and errors[0].code() == KafkaError._AUTHENTICATION
    assert "Invalid username or password" in errors[0].str()
    errors = client_errors(bootstrap, sasl_config(protocol, "PLAIN", "mallory", "alice-secret", tls))
    assert errors and errors[0].code() == KafkaError._AUTHENTICATION


def test_scram_users_are_managed_by_the_admin_client_and_authenticate(secured, certificates):
    admin = AdminClient({"bootstrap.servers": secured.bootstrap})
    futures = admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("carol", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), b"carol-pw"),
        UserScramCredentialUpsertion("dave", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), b"dave-pw"),
    ])
    for future in futures.values():
        future.result(timeout=10)
    described = {user: future.result(timeout=10)
                 for user, future in admin.describe_user_scram_credentials(["carol", "dave"]).items()}
    infos = {user: [(i.mechanism, i.iterations) for i in description.scram_credential_infos]
             for user, description in described.items()}
    assert infos == {"carol": [(ScramMechanism.SCRAM_SHA_256, 8192)], "dave": [(ScramMechanism.SCRAM_SHA_512, 4096)]}

    for protocol, mechanism, user, password in (("SASL_SSL", "SCRAM-SHA-256", "carol", "carol-pw"),
                                                ("SASL_PLAINTEXT", "SCRAM-SHA-512", "dave", "dave-pw")):
        tls = certificates if protocol == "SASL_SSL" else None
        bootstrap = secured.address(protocol)
        round_trip(bootstrap, sasl_config(protocol, mechanism, user, password, tls), f"scram-{user}")
        errors = client_errors(bootstrap, sasl_config(protocol, mechanism, user, "wrong", tls))
        assert errors and errors[0].code() == KafkaError._AUTHENTICATION
    # A credential of the other mechanism does not authenticate.
    errors = client_errors(secured.address("SASL_PLAINTEXT"),
                           sasl_config("SASL_PLAINTEXT", "SCRAM-SHA-512", "carol", "carol-pw"))
    assert errors and errors[0].code() == KafkaError._AUTHENTICATION


def test_scram_users_bootstrapped_from_configuration_authenticate_and_stay_secret(secured, certificates):
    for protocol, mechanism, user in (("SASL_SSL", "SCRAM-SHA-256", "frank"), ("SASL_PLAINTEXT", "SCRAM-SHA-512", "grace")):
        tls = certificates if protocol == "SASL_SSL" else None
        bootstrap = secured.address(protocol)
        round_trip(bootstrap, sasl_config(protocol, mechanism, user, f"{user}-secret", tls), f"bootstrapped-{user}")
        errors = client_errors(bootstrap, sasl_config(protocol, mechanism, user, "wrong", tls))
        assert errors and errors[0].code() == KafkaError._AUTHENTICATION
    admin = AdminClient({"bootstrap.servers": secured.bootstrap})
    described = {user: [(i.mechanism, i.iterations) for i in future.result(timeout=10).scram_credential_infos]
                 for user, future in admin.describe_user_scram_credentials(["frank", "grace"]).items()}
    assert described == {"frank": [(ScramMechanism.SCRAM_SHA_256, 4096)], "grace": [(ScramMechanism.SCRAM_SHA_512, 8192)]}
    # Neither the stored credentials nor DescribeConfigs give the secrets away.
    stored = (secured.data_dir / "scram-credentials").read_text()
    assert "frank-secret" not in stored and base64.b64encode(GRACE_SALTED).decode() not in stored
    configs = admin.describe_configs([ConfigResource(ResourceType.BROKER, "0")])
    entries = next(iter(configs.values())).result(timeout=10)
    secret = entries["scram.bootstrap.credentials"]
    assert secret.is_sensitive and secret.value is None and not secret.is_default


def test_scram_credential_validation_answers_kafkas_errors(secured):
    admin = AdminClient({"bootstrap.servers": secured.bootstrap})
    futures = admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("eve", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 1000), b"pw")])
    with pytest.raises(KafkaException) as caught:
        futures["eve"].result(timeout=10)
    assert caught.value.args[0].code() == KafkaError.UNACCEPTABLE_CREDENTIAL
    futures = admin.alter_user_scram_credentials([UserScramCredentialDeletion("nobody", ScramMechanism.SCRAM_SHA_256)])
    with pytest.raises(KafkaException) as caught:
        futures["nobody"].result(timeout=10)
    assert caught.value.args[0].code() == KafkaError.RESOURCE_NOT_FOUND


def test_unknown_mechanism_early_requests_and_protocol_mixups_are_refused(secured, certificates):
    # Metadata before authentication closes the connection.
    metadata = frame(3, 1, 7, struct.pack(">i", -1))
    assert raw_connection_closed(secured.ports["SASL_PLAINTEXT"], metadata)
    # An unknown mechanism is answered UNSUPPORTED_SASL_MECHANISM with the enabled ones, then closed.
    with socket.create_connection(("127.0.0.1", secured.ports["SASL_PLAINTEXT"]), timeout=5) as sock:
        mechanism = b"GSSAPI"
        sock.sendall(frame(17, 1, 9, struct.pack(">h", len(mechanism)) + mechanism))
        answer = read_response(sock)
        correlation, error = struct.unpack(">ih", answer[:6])
        assert (correlation, error) == (9, 33)
        assert b"SCRAM-SHA-256" in answer
        assert sock.recv(1) == b""
    # A plaintext client on a TLS port and a TLS client on a plaintext port are closed.
    assert raw_connection_closed(secured.ports["SSL"], frame(18, 0, 1, b""))
    errors = client_errors(secured.bootstrap, ssl_config(certificates), seconds=5)
    assert errors
    # The broker keeps serving.
    round_trip(secured.address("SSL"), ssl_config(certificates), "after-refusals", count=3)


def test_sasl_handshake_v0_is_followed_by_unframed_tokens(secured):
    with socket.create_connection(("127.0.0.1", secured.ports["SASL_PLAINTEXT"]), timeout=5) as sock:
        mechanism = b"PLAIN"
        sock.sendall(frame(17, 0, 1, struct.pack(">h", len(mechanism)) + mechanism))
        correlation, error = struct.unpack(">ih", read_response(sock)[:6])
        assert (correlation, error) == (1, 0)
        token = b"\0alice\0alice-secret"
        sock.sendall(struct.pack(">i", len(token)) + token)
        assert read_response(sock) == b""  # PLAIN answers an empty token
        # Authenticated: ordinary requests are served (Metadata v1, all topics).
        sock.sendall(frame(3, 1, 2, struct.pack(">i", -1)))
        assert struct.unpack(">i", read_response(sock)[:4])[0] == 2


def test_kafka_python_and_aiokafka_authenticate_with_scram_over_ssl(secured, certificates):
    import asyncio
    import ssl
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from kafka import KafkaProducer
    admin = AdminClient({"bootstrap.servers": secured.bootstrap})
    admin.alter_user_scram_credentials([UserScramCredentialUpsertion(
        "frank", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), b"frank-pw")])["frank"].result(timeout=10)
    context = ssl.create_default_context(cafile=str(certificates["ca"]))
    producer = KafkaProducer(bootstrap_servers=secured.address("SASL_SSL"), security_protocol="SASL_SSL",
                             ssl_context=context, sasl_mechanism="SCRAM-SHA-512", sasl_plain_username="frank",
                             sasl_plain_password="frank-pw")
    producer.send("python-scram", b"from kafka-python", partition=0).get(timeout=10)
    producer.close()

    async def aiokafka_round_trip():
        options = dict(bootstrap_servers=secured.address("SASL_SSL"), security_protocol="SASL_SSL",
                       ssl_context=context, sasl_mechanism="PLAIN", sasl_plain_username="alice",
                       sasl_plain_password="alice-secret")
        producer = AIOKafkaProducer(**options)
        await producer.start()
        await producer.send_and_wait("python-scram", b"from aiokafka", partition=0)
        await producer.stop()
        consumer = AIOKafkaConsumer(**options, auto_offset_reset="earliest")
        await consumer.start()
        consumer.assign([__import__("aiokafka").TopicPartition("python-scram", 0)])
        values = []
        try:
            while len(values) < 2:
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 10)
                values += [m.value for messages in batch.values() for m in messages]
        finally:
            await consumer.stop()
        return values

    assert asyncio.run(aiokafka_round_trip()) == [b"from kafka-python", b"from aiokafka"]


def test_debian_kcat_produces_and_consumes_over_sasl_ssl_with_plain(secured, certificates):
    import subprocess
    options = ["-b", secured.address("SASL_SSL"), "-X", "security.protocol=SASL_SSL",
               "-X", f"ssl.ca.location={certificates['ca']}", "-X", "sasl.mechanisms=PLAIN",
               "-X", "sasl.username=alice"]
    subprocess.run(["kcat", *options, "-X", "sasl.password=alice-secret", "-P", "-t", "kcat-sasl", "-p", "0"],
                   input="one\ntwo\n", text=True, check=True, timeout=30)
    out = subprocess.run(["kcat", *options, "-X", "sasl.password=alice-secret", "-C", "-t", "kcat-sasl", "-e", "-q"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    assert out.split() == ["one", "two"]
    refused = subprocess.run(["kcat", *options, "-X", "sasl.password=wrong", "-L", "-m", "5"],
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "Invalid username or password" in refused.stderr
