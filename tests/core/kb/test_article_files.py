"""Files attached to articles (PHI-free, bounded) go to the real RT 5 with the article and
arrive byte-exact on a colleague's laptop; patient data, DICOM and oversized files are kept
out with one line and exit 2."""

from __future__ import annotations

import hashlib
import json

import pytest

from pacs_console.core.kb import files
from pacs_console.core.kb.store import get_article
from pacs_console.core.sync import helpdesk
from tests.conftest import run_cli
from tests.core.kb.rt_articles import add_article_class
from tests.core.sync.conftest import laptops_on, run

TRACE = ("12:00:01 A-ASSOCIATE-RQ CT_KBTH -> PACS\n"
         "12:00:02 C-FIND PatientName=DOE^JOHN PatientID=998877\n"
         "12:00:03 A-ASSOCIATE-RJ called AE title not recognised\n")


@pytest.fixture
def laptops(tmp_path, rt_peer):
    add_article_class(rt_peer)
    with laptops_on(tmp_path, rt_peer) as opened:
        yield opened


def _cli(ctx, *args):
    proc = run_cli("kb", *args, data_dir=ctx.paths.data.parent)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_a_trace_goes_out_scrubbed_and_arrives_on_the_other_laptop(laptops, tmp_path):
    tamale, ho = laptops
    made = json.loads(_cli(tamale, "new", "--title", "Archive rejects CT after IP change",
                           "--code", "called-ae-rejected", "--json").stdout)
    trace = tmp_path / "association-trace.log"
    trace.write_text(TRACE)
    done = _cli(tamale, "attach", str(made["id"]), str(trace))
    assert done.returncode == 0, done.stderr
    article = get_article(tamale.db, made["id"])
    (listed,) = article.attachments
    name, sha = files.parse(listed)
    assert name == "association-trace.log" and sha
    kept = (tamale.paths.data / "kb-files" / sha[:2] / sha).read_bytes()
    assert b"DOE" not in kept and b"998877" not in kept and b"A-ASSOCIATE-RJ" in kept
    assert hashlib.sha256(kept).hexdigest() == sha
    assert article.sync_state == "pending"

    sent = run(helpdesk.sync_once(tamale))
    assert sent.articles.sent == 1 and not sent.articles.errors, sent.articles.to_dict()
    pulled = run(helpdesk.sync_once(ho))
    assert not pulled.articles.errors, pulled.articles.to_dict()
    copy = get_article(ho.db, made["uuid"][:8])
    assert copy.attachments == (listed,)
    arrived = ho.paths.data / "kb-files" / sha[:2] / sha
    assert arrived.read_bytes() == kept  # byte-exact, and already scrubbed
    assert "association-trace.log" in _cli(ho, "show", str(copy.id)).stdout


def test_what_may_carry_patient_data_or_is_too_big_is_refused(laptops, tmp_path):
    tamale, _ho = laptops
    made = json.loads(_cli(tamale, "new", "--title", "Viewer shows blank series",
                           "--json").stdout)
    screenshot = tmp_path / "viewer.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    dicom = tmp_path / "image.dat"
    dicom.write_bytes(bytes(128) + b"DICM" + bytes(64))
    big = tmp_path / "huge.log"
    big.write_bytes(b"x" * (files.MAX_FILE + 1))
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7\n")
    for path, said in ((screenshot, "--confirm-no-phi"), (dicom, "DICOM"),
                       (big, str(files.MAX_FILE)), (report, "only text files")):
        proc = _cli(tamale, "attach", str(made["id"]), str(path))
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert get_article(tamale.db, made["id"]).attachments == ()
    confirmed = _cli(tamale, "attach", str(made["id"]), str(screenshot), "--confirm-no-phi")
    assert confirmed.returncode == 0
    assert files.parse(get_article(tamale.db, made["id"]).attachments[0])[0] == "viewer.png"
