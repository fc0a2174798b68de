"""Peers for the assessment tests: Orthanc configuration variants, a dcmqrscp with AE checks,
certificates of every kind (valid, expired, expiring, self-signed, wrong host, RSA 1024) and an
``openssl s_server`` that still speaks TLS 1.0 with a weak cipher."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.peers.dcmtk import DcmqrscpPeer
from tests.peers.orthanc import OrthancPeer
from tests.pki import _cert, _name, _write

STRONG_PASSWORD = "x7!Qv-Brakwa-2026-Lagoon"


class ConfiguredOrthanc(OrthancPeer):
    """Orthanc with configuration overrides; ready when its DICOM port takes connections
    (a secure one refuses the readiness C-ECHO of an unknown AE, which is the point)."""

    def __init__(self, aet, host, dicom_port, http_port, overrides: dict, **kwargs):
        super().__init__(aet, host, dicom_port, http_port, **kwargs)
        self.overrides = overrides

    def command(self) -> list[str]:
        cmd = super().command()
        path = Path(cmd[1])
        config = json.loads(path.read_text())
        config.update(self.overrides)
        path.write_text(json.dumps(config, indent=2))
        return cmd

    def _wait_ready(self, cmd: list[str]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not (self._port_open() and _open(self.host, self.http_port)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                message = self._failure("did not open its ports", cmd)
                self.stop(remove_workdir=False)
                raise RuntimeError(message)
            time.sleep(0.03)


class CheckingDcmqrscp(DcmqrscpPeer):
    """dcmqrscp that serves only the peers of its HostTable (not ANY); ready when its port
    takes connections (it rejects the readiness C-ECHO of an unknown AE)."""

    def _wait_ready(self, cmd: list[str]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not self._port_open():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                message = self._failure("did not open its port", cmd)
                self.stop(remove_workdir=False)
                raise RuntimeError(message)
            time.sleep(0.03)

    def command(self) -> list[str]:
        cmd = super().command()
        path = Path(cmd[2])
        text = path.read_text().replace(" ANY\nAETable END", " PACSCONSOLE\nAETable END")
        path.write_text(text)
        return cmd


def _open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def make_certs(folder: Path, host: str) -> dict[str, tuple[str, str]]:
    """label -> (cert.pem, key.pem), all for ``host`` unless the label says otherwise."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(_name("Assess Test CA"), _name("Assess Test CA"), ca_key, ca_key, ca=True,
               days=(-1, 3650))
    ip = [x509.IPAddress(ipaddress.ip_address(host))]
    files: dict = {"ca": _write(folder / "ca.pem", ca)}
    specs = {  # label: (key, SAN, days, self-signed)
        "good": (ec.generate_private_key(ec.SECP256R1()), ip, (-1, 730), False),
        "expired": (ec.generate_private_key(ec.SECP256R1()), ip, (-60, -2), False),
        "selfsigned": (ec.generate_private_key(ec.SECP256R1()), ip, (-1, 730), True),
        "wronghost": (ec.generate_private_key(ec.SECP256R1()),
                      [x509.DNSName("other.hospital.test")], (-1, 730), False),
        "weakkey": (rsa.generate_private_key(65537, 1024), ip, (-1, 10), False),
    }
    for label, (key, san, days, selfsigned) in specs.items():
        name = _name(f"{label}.hospital.test")
        cert = _cert(name, name if selfsigned else _name("Assess Test CA"), key,
                     key if selfsigned else ca_key, ca=False, san=san, days=days)
        files[label] = (_write(folder / f"{label}.pem", cert),
                        _write(folder / f"{label}.key", key=key))
    return files


def tls_orthanc(aet, host, dicom_port, http_port, cert: tuple[str, str], ca: str,
                **extra) -> ConfiguredOrthanc:
    return ConfiguredOrthanc(aet, host, dicom_port, http_port, {
        "DicomTlsEnabled": True, "DicomTlsCertificate": cert[0], "DicomTlsPrivateKey": cert[1],
        "DicomTlsTrustedCertificates": ca, "DicomTlsRemoteCertificateRequired": False, **extra})


class OldTlsServer:
    """``openssl s_server`` accepting TLS 1.0 with AES128-SHA (no forward secrecy, CBC; an RSA
    certificate)."""

    def __init__(self, host: str, port: int, cert: tuple[str, str]) -> None:
        self.host, self.port, self.cert = host, port, cert
        self.proc: subprocess.Popen | None = None

    def start(self) -> OldTlsServer:
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"{self.host}:{self.port}", "-cert", self.cert[0],
             "-key", self.cert[1], "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0", "-naccept",
             "100", "-quiet"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _open(self.host, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("openssl s_server did not start")
            time.sleep(0.03)
        return self

    def stop(self) -> None:
        if self.proc is not None:  # stdin stays open while it runs: s_server ends on its EOF
            self.proc.kill()
            self.proc.wait()
            self.proc.stdin.close()

