"""Test certificates and secured brokers for the security tests.

Certificates are made at test time with openssl into a temporary directory: a CA, a broker certificate for
127.0.0.1/localhost and client certificates; nothing secret is committed."""
import pathlib
import socket
import subprocess
import tempfile

from conftest import RunningBroker, free_port


def _openssl(*arguments, cwd):
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: pathlib.Path) -> dict:
    """Makes ca.pem, broker.pem (key + chain, for ssl.keystore.location), broker-encrypted.pem (key encrypted
    with 'keypass'), and client certificates alice and bob; returns their paths."""
    d = str(directory)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Portask Test CA", cwd=d)
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, subject, extension in (("broker", "/CN=localhost/O=Portask", ["-extfile", "san.ext"]),
                                     ("alice", "/O=Portask/OU=Clients/CN=alice", []),
                                     ("bob", "/O=Portask/OU=Clients/CN=bob", [])):
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "2", *extension, cwd=d)
    (directory / "broker.pem").write_text((directory / "broker.key").read_text() + (directory / "broker.crt").read_text())
    _openssl("pkcs8", "-topk8", "-in", "broker.key", "-out", "broker-encrypted.key", "-passout", "pass:keypass", cwd=d)
    return {"dir": directory, "ca": directory / "ca.pem", "broker": directory / "broker.pem",
            "broker_key": directory / "broker.key", "broker_encrypted_key": directory / "broker-encrypted.key",
            "broker_crt": directory / "broker.crt",
            "alice_key": directory / "alice.key", "alice_crt": directory / "alice.crt",
            "bob_key": directory / "bob.key", "bob_crt": directory / "bob.crt"}


class SecuredBroker(RunningBroker):
    """A broker with PLAINTEXT (the fixture's port) and further named listeners on free ports."""

    def __init__(self, data_dir, listeners: dict, overrides: dict):
        super().__init__(data_dir, overrides)
        self.ports = {name: free_port() for name in listeners}
        self.ports["PLAINTEXT"] = self.port
        entries = [f"PLAINTEXT://127.0.0.1:{self.port}"] + [f"{name}://127.0.0.1:{self.ports[name]}" for name in listeners]
        protocol_map = ["PLAINTEXT:PLAINTEXT"] + [f"{name}:{protocol}" for name, protocol in listeners.items()]
        self.overrides = {"listeners": ",".join(entries),
                          "listener.security.protocol.map": ",".join(protocol_map), **overrides}

    def address(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener]}"


def raw_connection_closed(port: int, payload: bytes, timeout=5.0) -> bool:
    """Sends `payload` and reports whether the broker closed the connection (reading EOF or a reset)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
