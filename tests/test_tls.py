"""TLS on the gRPC servers and clients: server-only TLS and mutual TLS are separate settings, and a client
(the CLI's `mshot health` included) trusts the CA it is given. Certificates are made with openssl here."""

from __future__ import annotations

import subprocess

import pytest

from mshot.config import ServerConfig, TlsConfig
from mshot.rpc.client import health_status, open_channel
from mshot.rpc.server import GrpcServer
from mshot_main import main


def _openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _signed(folder, name: str, extensions: str) -> None:
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=folder)
    (folder / f"{name}.ext").write_text(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=folder)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for localhost / 127.0.0.1 and a client certificate, all signed by the CA."""
    folder = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
             "-out", "ca.crt", "-days", "2", "-subj", "/CN=mshot-test-ca", cwd=folder)
    _signed(folder, "server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    _signed(folder, "client", "extendedKeyUsage=clientAuth\n")
    return folder


def _serving(tls: TlsConfig):
    server = GrpcServer("tracking", ServerConfig(port=0, tls=tls))
    server.start()
    server.set_serving()
    return server


def _health(port: int, tls: TlsConfig | None) -> str:
    return health_status(open_channel(f"localhost:{port}", tls), timeout_s=3.0)


def test_server_only_tls_serves_clients_that_trust_its_ca_without_client_certificates(pki):
    server = _serving(TlsConfig(cert=str(pki / "server.crt"), key=str(pki / "server.key")))
    try:
        assert _health(server.port, TlsConfig(ca=str(pki / "ca.crt"))) == "SERVING"
        assert _health(server.port, None) == "UNREACHABLE"  # plaintext to a TLS port
        assert _health(server.port, TlsConfig(cert=str(pki / "client.crt"), key=str(pki / "client.key"))) \
            == "UNREACHABLE"  # the system's roots do not know the test CA
    finally:
        server.server.stop(0)


def test_mutual_tls_needs_a_client_certificate_signed_by_the_client_ca(pki):
    server = _serving(TlsConfig(cert=str(pki / "server.crt"), key=str(pki / "server.key"),
                                client_ca=str(pki / "ca.crt")))
    try:
        assert _health(server.port, TlsConfig(ca=str(pki / "ca.crt"))) == "UNREACHABLE"
        assert _health(server.port, TlsConfig(cert=str(pki / "client.crt"), key=str(pki / "client.key"),
                                              ca=str(pki / "ca.crt"))) == "SERVING"
    finally:
        server.server.stop(0)


def test_cli_health_trusts_the_ca_in_mshot_tls_ca(pki, monkeypatch, capsys):
    server = _serving(TlsConfig(cert=str(pki / "server.crt"), key=str(pki / "server.key")))
    try:
        monkeypatch.setenv("MSHOT_TLS_CA", str(pki / "ca.crt"))
        assert main(["health", "--addr", f"localhost:{server.port}"]) == 0
        assert capsys.readouterr().out.strip() == "SERVING"
    finally:
        server.server.stop(0)


def test_a_cert_without_its_key_is_a_configuration_error():
    from mshot.errors import FailedPrecondition

    with pytest.raises(FailedPrecondition, match="together"):
        TlsConfig.from_env({"MSHOT_TLS_CERT": __file__})
