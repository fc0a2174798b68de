"""DICOMweb against Orthanc's plugin (QIDO, WADO into the store, STOW), auth and proxy pages."""

from __future__ import annotations

import json

import pytest

from pacs_console.core.dicom.synth.studies import generate_study
from pacs_console.core.dicomweb import auth, client
from pacs_console.core.dicomweb.client import Endpoint
from tests.core.dicom_ops.helpers import drain, free_port, part10
from tests.httpd import ReplyHandler, serving
from tests.peers.net import addr, free_ports
from tests.peers.orthanc import OrthancPeer
from tests.peers.plugin import peer_running


def _endpoint(orthanc, **kwargs) -> Endpoint:
    return Endpoint(orthanc.url + "/dicom-web", **kwargs)


def test_stow_qido_wado_round_trip(orthanc, tmp_path):
    study = generate_study("CT", images=3, series=1, size=32, seed=21)
    _, stowed = drain(client.stow(_endpoint(orthanc), study))
    assert stowed.ok, stowed.diagnosis
    assert stowed.stored == 3 and stowed.status == 200
    uid = str(study[0].StudyInstanceUID)
    found = client.qido(_endpoint(orthanc), "study", {"PatientID": str(study[0].PatientID)})
    assert found.ok and [m["StudyInstanceUID"] for m in found.matches] == [uid]
    assert found.matches[0]["PatientName"] == str(study[0].PatientName)  # UTF-8 kept
    series = client.qido(_endpoint(orthanc), "series", study_uid=uid)
    assert len(series.matches) == 1
    progress, got = drain(client.wado(_endpoint(orthanc), tmp_path / "store", uid))
    assert got.ok, got.diagnosis
    assert len(got.files) == 3 and len(progress) == 3
    stored = sorted((tmp_path / "store").rglob("*.dcm"))
    assert {p.stem for p in stored} == {str(ds.SOPInstanceUID) for ds in study}
    assert got.evidence()["kind"] == "dicomweb-wado"


def test_qido_without_matches_and_unknown_study(orthanc, tmp_path):
    empty = client.qido(_endpoint(orthanc), "study", {"PatientID": "NOBODY"})
    assert empty.ok and empty.matches == []
    _, missing = drain(client.wado(_endpoint(orthanc), tmp_path, "1.2.3.4.5.6"))
    assert not missing.ok
    assert missing.diagnosis.code in ("dicomweb-http-404", "dicomweb-empty")


def test_wrong_base_path_is_explained(orthanc):
    wrong = client.qido(Endpoint(orthanc.url + "/dicomweb"), "study")
    assert wrong.diagnosis.code == "dicomweb-http-404"
    assert "base path" in " ".join(wrong.diagnosis.causes)


def test_stow_of_a_non_dicom_part_is_refused(orthanc, tmp_path):
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not dicom at all" * 10)
    good = generate_study("CR", images=1, size=32, seed=3)[0]
    path = tmp_path / "good.dcm"
    path.write_bytes(part10(good))
    _, result = drain(client.stow(_endpoint(orthanc), [path, bad]))
    assert not result.ok
    assert result.stored == 1 or result.status >= 400
    assert result.diagnosis is not None


def test_connection_refused():
    result = client.qido(Endpoint(f"http://127.0.0.1:{free_port()}/dicom-web"), "study")
    assert result.diagnosis.code == "connection-refused"


class _Proxy(ReplyHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.reply(b"<html><head><title>Access denied - Hospital Proxy</title></head></html>",
                   "text/html; charset=utf-8")


def test_proxy_html_page_instead_of_json():
    with serving(_Proxy) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/dicom-web"
        result = client.qido(Endpoint(url), "study")
        assert result.diagnosis.code == "dicomweb-html-page"
        assert result.diagnosis.evidence["page title"] == "Access denied - Hospital Proxy"
        assert "proxy" in result.diagnosis.what.lower() or "Proxy" in result.diagnosis.what


def test_credentials_live_in_the_keyring(ctx):
    url = "https://pacs.example.test/dicom-web/"
    creds = auth.Credentials("basic", "engineer", "s3cret")
    auth.save_credentials(ctx.secrets, url, creds)
    assert auth.load_credentials(ctx.secrets, "https://PACS.example.test/dicom-web") == creds
    assert "s3cret" not in repr(creds)
    assert not list(ctx.paths.data.rglob("*")) or all(
        b"s3cret" not in p.read_bytes() for p in ctx.paths.data.rglob("*") if p.is_file())


class _AuthOrthanc(OrthancPeer):
    """A throw-away Orthanc that requires HTTP basic authentication."""

    def command(self):
        cmd = super().command()
        path = self.workdir / "orthanc.json"
        config = json.loads(path.read_text())
        config.update({"AuthenticationEnabled": True, "RegisteredUsers": {"engineer": "s3cret"}})
        path.write_text(json.dumps(config))
        return cmd

    def clear(self):
        pass


@pytest.fixture(scope="module")
def auth_orthanc():
    host = addr(31)
    yield from peer_running(_AuthOrthanc("AUTHORTHANC", host, *free_ports(host, 2)))


def test_basic_auth_against_orthanc(auth_orthanc, ctx):
    url = auth_orthanc.url + "/dicom-web"
    refused = client.qido(Endpoint(url), "study")
    assert refused.diagnosis.code == "dicomweb-http-401"
    assert "www-authenticate" in refused.diagnosis.evidence
    wrong = client.qido(Endpoint(url, auth.Credentials("basic", "engineer", "nope")), "study")
    assert wrong.diagnosis.code == "dicomweb-http-401"
    auth.save_credentials(ctx.secrets, url, auth.Credentials("basic", "engineer", "s3cret"))
    good = client.qido(Endpoint(url, auth.load_credentials(ctx.secrets, url)), "study")
    assert good.ok, good.diagnosis
    bearer = client.qido(Endpoint(url, auth.Credentials("bearer", "", "token")), "study")
    assert bearer.diagnosis.code == "dicomweb-http-401"
