"""One safe-path function for every writer: hostile UIDs never steer a file outside its root.

Each writer (the Storage SCP over a real C-STORE, C-GET's receiver, WADO-RS, zip import,
de-identified export) is fed `..`, `/`, absolute, NUL, over-long and Unicode names."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from pydicom import dcmwrite
from pydicom.uid import generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import CTImageStorage, PatientRootQueryRetrieveInformationModelGet

from pacs_console.core import safepath
from pacs_console.core.dicom.ops.retrieve import get
from pacs_console.core.dicom.servers.storage import StorageSCP
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.dicomweb import client
from pacs_console.core.imaging.deid import export_deid
from pacs_console.core.imaging.sources import _extract_zip, list_source
from tests.core.dicom_ops.helpers import QUICK, drain
from tests.dicom_samples import ct_series
from tests.httpd import ReplyHandler, serving

HOSTILE = ["..", ".", "../..", "/", "/etc/passwd", "a/../../b", "1.2\x00/../x", "9" * 65,
           "1.2.3." + "4" * 70, "é.1", "..\\..\\x", "", " ", "1..2", ".1.2", "1.2."]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_get_a_plain_name(value):
    name = safepath.uid_name(value, "unknown")
    assert name == "unknown" or name.startswith("x-")
    assert "/" not in name and "\\" not in name and name not in (".", "..")
    assert safepath.uid_name(value, "unknown") == name  # stable: the same value, the same name


def test_valid_uids_are_kept():
    for uid in ("1.2.840.10008.5.1.4.1.1.2", "2.25.0", "1" + ".2" * 31):
        assert safepath.uid_name(uid) == uid
    assert safepath.uid_name("1.2.3\x00") == "1.2.3"  # DICOM's NUL padding is not part of it


def test_join_and_inside_refuse_escapes(tmp_path):
    with pytest.raises(safepath.UnsafePath):
        safepath.join(tmp_path, "..")
    with pytest.raises(safepath.UnsafePath):
        safepath.join(tmp_path, "a/b")
    with pytest.raises(safepath.UnsafePath):
        safepath.inside(tmp_path / "root", "/etc/passwd")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    with pytest.raises(safepath.UnsafePath):
        safepath.join(tmp_path / "root", "link", "x")
    path = safepath.instance_path(tmp_path / "root", "..", "/", "../../evil")
    assert tmp_path / "root" in path.parents


def _only_inside(root: Path, outside: Path) -> list[Path]:
    """Every file under ``outside`` lies under ``root`` (nothing escaped)."""
    root = root.resolve()
    files = [p for p in outside.rglob("*") if p.is_file()]
    escaped = [p for p in files if root not in p.resolve().parents]
    assert not escaped, escaped
    return [p for p in files if root in p.resolve().parents]


def _hostile(study: str, series: str):
    ds = ct_series(1)[0]
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    return ds


@pytest.mark.parametrize("study,series", [("..", ".."), ("../..", "/tmp"), ("é" * 80, "x\x00y")])
def test_cstore_with_hostile_uids_stays_in_the_store(tmp_path, study, series):
    """A real C-STORE from an arbitrary AE into the console's Storage SCP."""
    store = tmp_path / "a" / "b" / "store"
    scp = StorageSCP(store, "PACSCONSOLE", 0, host="127.0.0.1", timeouts=QUICK).start()
    try:
        sender = make_ae("HOSTILE", requested=[CTImageStorage])
        assoc = sender.associate("127.0.0.1", scp.port, ae_title="PACSCONSOLE")
        assert assoc.is_established
        ds = _hostile(study, series)
        status = assoc.send_c_store(ds).Status
        assoc.release()
    finally:
        scp.stop()
    written = _only_inside(store, tmp_path)
    if status == 0:
        assert len(written) == 1 and written[0].name == f"{ds.SOPInstanceUID}.dcm"
        assert written[0].parent.parent.parent == store
    else:
        assert status >= 0xA000 and not written


def _get_scp(datasets) -> tuple[AE, object]:
    """A hostile C-GET SCP: pynetdicom serving datasets whose UIDs try to escape."""
    ae = AE(ae_title="EVILGET")
    ae.add_supported_context(PatientRootQueryRetrieveInformationModelGet)
    ae.add_supported_context(CTImageStorage, scu_role=False, scp_role=True)

    def handle_get(event):
        yield len(datasets)
        for ds in datasets:
            yield 0xFF00, ds

    server = ae.start_server(("127.0.0.1", 0), block=False,
                             evt_handlers=[(evt.EVT_C_GET, handle_get)])
    return ae, server


def test_cget_with_hostile_uids_stays_in_the_store(tmp_path):
    datasets = [_hostile("..", ".."), _hostile("/etc", "../../../x")]
    ae, server = _get_scp(datasets)
    store = tmp_path / "x" / "store"
    try:
        port = server.server_address[1]
        _, result = drain(get(Target("127.0.0.1", port, "EVILGET", timeouts=QUICK), "PATIENT",
                              {"patient_id": "PEERTEST1"}, store, sop_classes=[CTImageStorage],
                              model="patient"))
    finally:
        server.shutdown()
    written = _only_inside(store, tmp_path)
    assert len(written) == result.completed == 2


def _part10(ds) -> bytes:
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


class _EvilWado(ReplyHandler):
    parts: list[bytes] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        body = b"".join(b"--B\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n"
                        for p in self.parts) + b"--B--\r\n"
        self.reply(body, 'multipart/related; type="application/dicom"; boundary=B')


def test_wado_with_hostile_uids_stays_in_the_store(tmp_path):
    _EvilWado.parts = [_part10(_hostile("..", "..")), _part10(_hostile("/etc", "é/..")),
                       b"not dicom at all"]
    store = tmp_path / "y" / "store"
    with serving(_EvilWado) as server:
        endpoint = client.Endpoint(f"http://127.0.0.1:{server.server_address[1]}/dicom-web")
        _, result = drain(client.wado(endpoint, store, "1.2.3"))
    written = _only_inside(store, tmp_path)
    assert len(written) == len(result.files) == 2
    assert len(result.failed) == 1 and result.diagnosis.code == "partial-wado"


def test_zip_members_never_leave_the_cache(tmp_path):
    archive = tmp_path / "in" / "evil.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("../../escape.dcm", "/abs.dcm", "ok/..\\..\\win.dcm", "good/one.dcm",
                     "é/ü.dcm"):
            zf.writestr(name, b"x")
    cache = tmp_path / "cache"
    listing = list_source(archive, cache)
    assert {p.name for p in listing.files} == {"one.dcm", "ü.dcm"}
    _only_inside(cache, tmp_path / "cache")
    assert not (tmp_path / "escape.dcm").exists() and not (tmp_path / "in" / "escape.dcm").exists()
    assert sum("unsafe" in n for n in listing.notes) == 3


def test_zip_size_and_entry_caps(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.dcm", b"\x00" * (64 << 20))  # 64 MB of zeros: ~64 KB compressed
        for i in range(5):
            zf.writestr(f"f{i}.dcm", b"y" * 1000)
    root, notes = _extract_zip(archive, tmp_path / "cache", max_entries=4, max_bytes=2500)
    assert any("zip bomb" in n for n in notes)
    assert any("only the first 4" in n for n in notes)
    assert any("more than" in n for n in notes)
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total <= 2500


def test_deid_export_of_hostile_uids_stays_in_out(tmp_path):
    files = []
    for i, (study, series) in enumerate([("..", ".."), ("/etc", "../../x")]):
        path = tmp_path / f"in{i}.dcm"
        ds = _hostile(study, series)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        dcmwrite(path, ds, enforce_file_format=True)
        files.append(path)
    out = tmp_path / "deep" / "out"
    report = drain(export_deid(files, out))[1]
    assert len(report.written) == 2 and not report.failed
    written = _only_inside(out, tmp_path / "deep")
    assert len(written) == 2
