"""Worklist answers without Specific Character Set (wlmscpfs sends none): text is read with the
query's character set, then UTF-8, then ISO 8859-1, and the console says which it used."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.peers.dcmtk import WlmscpfsPeer
from tests.peers.net import addr, free_port
from tests.peers.plugin import peer_running

pytestmark = pytest.mark.peers


def _item(accession: str, name: str, description: str) -> str:
    """A worklist item shaped like DCMTK's wklist1.dump (wlmscpfs skips incomplete items),
    without (0008,0005) Specific Character Set."""
    return f"""\
(0008,0050) SH  {accession}
(0010,0010) PN  {name}
(0010,0020) LO  GH-{accession}
(0010,0030) DA  19800101
(0010,0040) CS  M
(0010,2000) LO  NONE
(0010,2110) LO  NONE
(0020,000d) UI  1.2.276.0.7230010.3.2.{ord(accession[-1])}
(0032,1032) PN  MENSAH
(0032,1060) LO  {description}
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS  CT
(0032,1070) LO  NONE
(0040,0001) AE  CTROOM1
(0040,0002) DA  20260101
(0040,0003) TM  080000
(0040,0006) PN  BOATENG
(0040,0007) LO  {description}
(0040,0009) SH  SPS{accession[-1]}
(0040,0010) SH  STN1
(0040,0011) SH  ROOM1
(0040,0012) LO
(0040,0400) LT
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH  RP{accession[-1]}
(0040,1003) SH  LOW
"""


@pytest.fixture(scope="module")
def wlmscpfs_undeclared():
    """wlmscpfs with DCMTK's examples plus a UTF-8 item and a Latin-1 item, neither declaring
    its character set (wlmscpfs answers without one by default in any case)."""
    host = addr(24)
    yield from peer_running(WlmscpfsPeer("WLMSCPFS", host, free_port(host), extra_items={
        "utf8": _item("ACC-UTF8", "Owusu^Kɔfi", "Ɛkwan CT"),
        "latin1": _item("ACC-LAT1", "Müller^José", "Tête CT").encode("latin-1"),
    }))


def _find(peer, accession, data_dir, *extra):
    return run_cli("find", "-W", "-aec", peer.aet, "--accession", accession, *extra,
                   peer.host, str(peer.dicom_port), data_dir=data_dir)


def test_utf8_names_from_wlmscpfs_without_charset_are_read_as_utf8(wlmscpfs_undeclared, data_dir):
    proc = _find(wlmscpfs_undeclared, "ACC-UTF8", data_dir, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    (match,) = doc["matches"]
    assert match["PatientName"] == "Owusu^Kɔfi" and "\ufffd" not in proc.stdout
    assert match["RequestedProcedureDescription"] == "Ɛkwan CT"
    assert doc["result"]["charset_assumed"] == "UTF-8 (ISO_IR 192), the query's character set"
    # What the answer declared is counted ("" for none), not added to the match.
    assert doc["result"]["charsets_declared"] == {"": 1} and "SpecificCharacterSet" not in match
    text = _find(wlmscpfs_undeclared, "ACC-UTF8", data_dir)
    assert "Owusu^Kɔfi" in text.stdout + text.stderr
    assert ("Note: the node sent no Specific Character Set; text read as UTF-8 (ISO_IR 192)"
            in text.stdout + text.stderr)


def test_bytes_that_are_not_utf8_fall_back_to_latin1(wlmscpfs_undeclared, data_dir):
    proc = _find(wlmscpfs_undeclared, "ACC-LAT1", data_dir, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    (match,) = doc["matches"]
    assert match["PatientName"] == "Müller^José" and match["RequestedProcedureDescription"] == "Tête CT"
    assert doc["result"]["charset_assumed"] == "ISO 8859-1 (ISO_IR 100)"


def test_plain_ascii_answers_assume_nothing(wlmscpfs_undeclared, data_dir):
    proc = run_cli("find", "-W", "-aec", "WLMSCPFS", "--name", "VIVALDI*", "--json",
                   wlmscpfs_undeclared.host, str(wlmscpfs_undeclared.dicom_port), data_dir=data_dir)
    doc = json.loads(proc.stdout)
    assert doc["count"] >= 1 and doc["result"]["charset_assumed"] == ""
