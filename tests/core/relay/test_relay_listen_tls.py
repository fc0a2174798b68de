"""TLS on the modality's side: DCMTK storescu over TLS (+tla, +tls) to the relay, which decrypts,
decodes and forwards the same PDU bytes to Orthanc (a recording tap proves them unchanged);
mutual TLS refusing a modality without a certificate; and a running relay process that
survives hostile TLS callers (garbage, plain DICOM, a handshake then nothing, a reset)."""

from __future__ import annotations

import socket
import ssl
import struct

import pytest

from pacs_console.core.dicom.wire.tls import TlsConfig
from pacs_console.core.relay.tracefile import DATA_AC, DATA_RQ, records
from tests.core.relay import support
from tests.core.relay.pdus import CT, EXPLICIT, rq
from tests.core.relay.support import ct_files, dcmtk, relaying, stored_hashes, wait_for
from tests.core.wire_peers import serve, stop
from tests.peers.plugin import SCU_AET
from tests.pki import make_pki

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def _storescu_tls(pki, address, aet: str, files, *client_cert: str):
    """storescu over TLS trusting the test CA: anonymous (+tla) or with a client certificate."""
    mode = ["+tls", *client_cert] if client_cert else ["+tla"]
    return dcmtk("storescu", *mode, "+cf", pki["ca"], "-aet", SCU_AET, "-aec", aet,
                 address[0], str(address[1]), *map(str, files))


def test_storescu_over_tls_through_the_relay_to_orthanc(orthanc, pki, tmp_path):
    files = ct_files(tmp_path, 4)
    stored_directly = support.store_directly(orthanc, files, SCU_AET)
    cert, key = pki["good"]
    with relaying(tmp_path, orthanc.host, orthanc.dicom_port, tap=True,
                  listen_tls=TlsConfig(cert_file=cert, key_file=key)) as (address, ended, trace, tap):
        done = _storescu_tls(pki, address, orthanc.aet, files)
        assert done.returncode == 0, done.stderr
        [report] = wait_for(ended)
    assert stored_hashes(orthanc) == stored_directly and len(stored_directly) == 4
    sent = b"".join(p for kind, _, _, p in records(trace) if kind == DATA_RQ)
    answered = b"".join(p for kind, _, _, p in records(trace) if kind == DATA_AC)
    assert sent[:1] == b"\x01" and bytes(tap.to_peer) == sent  # the decrypted PDUs, unchanged
    assert bytes(tap.from_peer) == answered
    assert (report["calling_ae"], report["result"]) == (SCU_AET, "released")
    assert [m["status"] for m in report["messages"]] == ["0x0000"] * 4
    assert report["tls"]["modality"].startswith("TLSv1.")
    assert report["diagnosis"] == []
    assert any(e["kind"] == "TLS" for e in report["timeline"])


def test_mutual_tls_refuses_a_modality_without_a_certificate(orthanc, pki, tmp_path):
    files = ct_files(tmp_path, 1)
    cert, key = pki["good"]
    secure = TlsConfig(cert_file=cert, key_file=key, ca_file=pki["ca"])
    with relaying(tmp_path, orthanc.host, orthanc.dicom_port, listen_tls=secure) as (
            address, ended, _, _):
        anonymous = _storescu_tls(pki, address, orthanc.aet, files)
        client_cert, client_key = pki["othername"]  # signed by the hospital CA
        signed = _storescu_tls(pki, address, orthanc.aet, files, client_key, client_cert)
        refused, accepted = wait_for(ended, 2)
    assert anonymous.returncode != 0
    assert refused["result"] == "modality TLS failed"
    assert [d["code"] for d in refused["diagnosis"]] == ["tls-caller-certificate-refused"]
    assert signed.returncode == 0, signed.stderr
    assert [m["status"] for m in accepted["messages"]] == ["0x0000"]


def _raw(port: int, payload: bytes, *, reset: bool = False) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(payload)
            if reset:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            sock.settimeout(3)
            sock.recv(1 << 16)
        except OSError:
            pass


def _handshake_then(port: int, ca: str, then: bytes, *, reset: bool) -> None:
    """A full TLS handshake, perhaps a few bytes, then a close or a TCP reset."""
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock = context.wrap_socket(raw)
    if then:
        sock.sendall(then)
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_a_tls_relay_survives_hostile_callers_and_keeps_relaying(pki, tmp_path):
    cert, key = pki["good"]
    scp, scp_info = serve(tmp_path / "scp", "scp", "--port", "0", "--bind", "127.0.0.1",
                          "--accept-any")
    relay, info = serve(tmp_path / "relay", "relay", "0", "--bind", "127.0.0.1", "--to",
                        f"127.0.0.1:{scp_info['port']}", "--out", str(tmp_path / "r.trace"),
                        "--listen-tls", "--cert", cert, "--key", key)
    try:
        assert info["listen_tls"] is True and info["port"] > 0
        port = info["port"]
        garbage = [b"\x16\x03\x01\xff\xff" + bytes(300),  # a record header that lies
                   b"\x16\x03\x01\x00\x30" + bytes(range(48)),  # a ClientHello of noise
                   bytes(range(256)) * 32]
        for payload in garbage:
            _raw(port, payload)
        _raw(port, rq([(CT, [EXPLICIT])]))  # plain DICOM to the TLS port
        _raw(port, b"\x16\x03\x01\x02\x00\x01", reset=True)  # half a hello, then a reset
        _handshake_then(port, pki["ca"], b"", reset=False)
        _handshake_then(port, pki["ca"], b"\x01\x00\x00\x00", reset=True)  # half a PDU header
        _handshake_then(port, pki["ca"], rq([(CT, [EXPLICIT])])[:40], reset=False)
        files = ct_files(tmp_path, 2)
        done = _storescu_tls(pki, ("127.0.0.1", port), "ANY-SCP", files)
        assert done.returncode == 0, done.stderr
        assert relay.poll() is None
    finally:
        assert stop(relay) == 0
        stop(scp)
    import json

    reports = [json.loads(line) for line in relay.stdout.read().splitlines() if line.startswith("{")]
    failed = [r for r in reports if r["result"] == "modality TLS failed"]
    assert len(failed) >= len(garbage) + 1
    assert any(d["code"] == "tls-caller-not-tls" for r in failed for d in r["diagnosis"])
    stored = [r for r in reports if r["result"] == "released"]
    assert [m["status"] for m in stored[-1]["messages"]] == ["0x0000"] * 2
