"""SASL/OAUTHBEARER with signed JWTs validated against a JSON Web Key Set (`sasl.oauthbearer.jwks.endpoint.url`
as a file URL), as Kafka's OAuthBearerValidatorCallbackHandler validates them: RS256 and ES256 tokens from
confluent-kafka's `oauth_cb` are accepted; a wrong signature, an expired token, a wrong audience or issuer and an
unsecured token are refused with SASL_AUTHENTICATION_FAILED. Keys are made and tokens signed with openssl."""
import base64
import json
import pathlib
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest
from confluent_kafka import KafkaError, Producer

from kafka_wire import frame, read_response
from security_support import SecuredBroker
from test_oauthbearer import delivered, oauth_config

AUDIENCE = "portask"
ISSUER = "https://issuer.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*arguments, data: bytes = None) -> bytes:
    return subprocess.run(["openssl", *arguments], input=data, capture_output=True, check=True).stdout


class SigningKey:
    """A private key in a PEM file, its JWK and JWS signing (RS256 or ES256) with openssl."""

    def __init__(self, directory: pathlib.Path, name: str, algorithm: str, kid: str):
        self.path = directory / f"{name}.pem"
        self.algorithm, self.kid = algorithm, kid
        if algorithm == "RS256":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(self.path))
            modulus = openssl("rsa", "-in", str(self.path), "-noout", "-modulus").decode().strip().split("=", 1)[1]
            self.jwk = {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                        "n": b64url(bytes.fromhex(modulus)), "e": b64url((65537).to_bytes(3, "big"))}
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(self.path))
            point = openssl("pkey", "-in", str(self.path), "-pubout", "-outform", "DER")[-65:]
            assert point[0] == 4
            self.jwk = {"kty": "EC", "kid": kid, "crv": "P-256", "x": b64url(point[1:33]), "y": b64url(point[33:])}

    def sign(self, claims: dict, header: dict = None) -> str:
        header = header or {"alg": self.algorithm, "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = openssl("dgst", "-sha256", "-sign", str(self.path), data=signing_input.encode())
        if self.algorithm == "ES256":
            signature = der_to_raw_ecdsa(signature, 32)
        return f"{signing_input}.{b64url(signature)}"


def der_to_raw_ecdsa(der: bytes, size: int) -> bytes:
    """An ECDSA signature's DER SEQUENCE { INTEGER r, INTEGER s } as JWS wants it: r || s, each `size` bytes."""
    assert der[0] == 0x30
    offset = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    values = []
    for _ in range(2):
        assert der[offset] == 0x02
        length = der[offset + 1]
        values.append(der[offset + 2:offset + 2 + length].lstrip(b"\x00").rjust(size, b"\x00"))
        offset += 2 + length
    return b"".join(values)


@pytest.fixture(scope="module")
def keys():
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-jwks-"))
    made = {"rsa": SigningKey(directory, "rsa", "RS256", "rsa-1"), "ec": SigningKey(directory, "ec", "ES256", "ec-1"),
            # Not in the key set, but claiming the RSA key's id.
            "impostor": SigningKey(directory, "impostor", "RS256", "rsa-1")}
    (directory / "jwks.json").write_text(json.dumps({"keys": [made["rsa"].jwk, made["ec"].jwk]}))
    made["jwks"] = directory / "jwks.json"
    yield made
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def jwt_broker(keys):
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-jwt-"))
    data_dir = directory / "data"
    data_dir.mkdir()
    broker = SecuredBroker(data_dir, {"SASL_PLAINTEXT": "SASL_PLAINTEXT"}, {
        "sasl.enabled.mechanisms": "OAUTHBEARER",
        "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config":
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
        "listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class":
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
        "listener.name.sasl_plaintext.oauthbearer.sasl.oauthbearer.jwks.endpoint.url": keys["jwks"].as_uri(),
        "sasl.oauthbearer.expected.audience": AUDIENCE,
        "sasl.oauthbearer.expected.issuer": ISSUER,
    })
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(directory, ignore_errors=True)


def claims(**changes) -> dict:
    now = int(time.time())
    return {"sub": "erin", "iss": ISSUER, "aud": [AUDIENCE, "other"], "iat": now, "exp": now + 300,
            "scope": "kafka", **changes}


def tampered(token: str) -> str:
    """The token with another subject in its claims and the original signature."""
    header, _, signature = token.split(".")
    return ".".join([header, b64url(json.dumps(claims(sub="root")).encode()), signature])


def authentication_refused(config, seconds=10) -> bool:
    """Whether a producer with `config` is told of an authentication failure (without waiting for timeouts)."""
    errors = []
    producer = Producer({**config, "error_cb": errors.append})
    deadline = time.time() + seconds
    while time.time() < deadline and not errors:
        producer.poll(0.1)
    return any(error.code() == KafkaError._AUTHENTICATION for error in errors)


def with_token(token: str):
    def callback(_config):
        return token, time.time() + 300
    return callback


@pytest.mark.parametrize("key", ["rsa", "ec"])
def test_signed_tokens_from_the_key_set_authenticate(jwt_broker, keys, key):
    token = keys[key].sign(claims())
    assert delivered(oauth_config(jwt_broker, oauth_cb=with_token(token)), f"jwt-{key}") is None


def test_bad_signatures_expired_tokens_and_wrong_claims_are_refused(jwt_broker, keys):
    rsa = keys["rsa"]
    now = int(time.time())
    refused = {
        "signed by a key outside the set": keys["impostor"].sign(claims()),
        "expired beyond the clock skew": rsa.sign(claims(iat=now - 600, exp=now - 60)),
        "for another audience": rsa.sign(claims(aud="elsewhere")),
        "from another issuer": rsa.sign(claims(iss="https://other.example")),
        "without iat": rsa.sign({key: value for key, value in claims().items() if key != "iat"}),
        "unsecured": b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(claims()).encode()) + ".",
        "with a tampered payload": tampered(rsa.sign(claims())),
    }
    for reason, token in refused.items():
        assert authentication_refused(oauth_config(jwt_broker, oauth_cb=with_token(token))), reason
    # The broker keeps serving valid tokens.
    assert delivered(oauth_config(jwt_broker, oauth_cb=with_token(rsa.sign(claims()))), "jwt-after") is None


def test_a_refused_token_gets_the_rfc7628_error_then_sasl_authentication_failed(jwt_broker, keys):
    token = keys["ec"].sign(claims(aud="elsewhere"))
    with socket.create_connection(("127.0.0.1", jwt_broker.ports["SASL_PLAINTEXT"]), timeout=5) as sock:
        mechanism = b"OAUTHBEARER"
        sock.sendall(frame(17, 1, 1, struct.pack(">h", len(mechanism)) + mechanism))
        assert struct.unpack(">ih", read_response(sock)[:6]) == (1, 0)
        first = f"n,,\x01auth=Bearer {token}\x01\x01".encode()
        sock.sendall(frame(36, 1, 2, struct.pack(">i", len(first)) + first))
        answer = read_response(sock)
        assert struct.unpack(">ih", answer[:6]) == (2, 0) and b'{"status":"invalid_token"}' in answer
        sock.sendall(frame(36, 1, 3, struct.pack(">i", 1) + b"\x01"))
        assert struct.unpack(">ih", read_response(sock)[:6]) == (3, 58)
        assert sock.recv(1) == b""
