"""`pacs-console health SITE` against real peers: Orthanc (PACS), dcmqrscp (archive), wlmscpfs
(worklist), a closed port and an in-process SCP that changes between runs."""

from __future__ import annotations

import json
import socket
from contextlib import contextmanager

import pytest

from pacs_console.core.context import Context
from pacs_console.core.db.nodes import save_node
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.incidents.sites import save_site
from pacs_console.paths import app_paths
from tests.conftest import run_cli

SITE = "Korle Bu Teaching Hospital"
VERIFICATION = "1.2.840.10008.1.1"


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _scanner(port: int, version: str):
    """The site's ultrasound answering C-ECHO on ``port`` as implementation ``version``, for
    the block (down before and after it)."""
    ae = make_ae("MODALITY1", supported=[VERIFICATION])
    ae.implementation_version_name = version
    ae.require_called_aet = False
    ae.maximum_associations = 32  # back-to-back echoes: released ones may not have ended yet
    server = ae.start_server(("127.0.0.1", port), block=False)
    try:
        yield server
    finally:
        server.shutdown()


def _us_node(ctx, site) -> int:
    """The ultrasound "US 1" in the address book; its port, where nothing listens yet."""
    port = _closed_port()
    _node(ctx, site, "US 1", ("MODALITY1", "127.0.0.1", port), "modality")
    return port


@pytest.fixture
def site(data_dir):
    ctx = Context.open(app_paths(data_dir))
    try:
        site = save_site(ctx.db, SITE)
        yield ctx, site
    finally:
        ctx.close()


def _node(ctx, site, name, peer_or_addr, tags):
    if isinstance(peer_or_addr, tuple):
        ae, host, port = peer_or_addr
    else:
        ae, host, port = peer_or_addr.aet, peer_or_addr.host, peer_or_addr.dicom_port
    save_node(ctx.db, name, ae, host, port, tags=tags, site_id=site.id)


def _health(data_dir, *args):
    proc = run_cli("health", SITE, "--json", *args, data_dir=data_dir, timeout=180)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, (json.loads(proc.stdout) if proc.stdout.strip() else None)


def _by(report):
    return {(c["node"], c["check"]): c for c in report["checks"]}


@pytest.mark.peers
def test_whole_site_checked_with_a_closed_node(site, data_dir, orthanc, dcmqrscp, wlmscpfs):
    ctx, record = site
    _node(ctx, record, "Main PACS", orthanc, "pacs")
    _node(ctx, record, "Archive", dcmqrscp, "archive")
    _node(ctx, record, "RIS", wlmscpfs, "ris")
    _node(ctx, record, "CT 2", ("CT2", "127.0.0.1", _closed_port()), "modality")
    proc, report = _health(data_dir)
    assert proc.returncode == 10, proc.stdout + proc.stderr  # some fail, not all
    checks = _by(report)
    for check in report["checks"]:
        assert set(check) >= {"node", "check", "result", "diagnosis"}
    assert checks[("Main PACS", "echo")]["result"] == "pass"
    assert checks[("Main PACS", "echo")]["metrics"]["p95_ms"] > 0
    assert checks[("Main PACS", "find")]["result"] == "pass"
    assert checks[("Archive", "find")]["result"] == "pass"
    assert checks[("RIS", "worklist")]["result"] == "pass"
    assert checks[("RIS", "worklist")]["metrics"]["count"] == 10  # DCMTK's example items
    assert checks[("Main PACS", "association")]["metrics"]["implementation_class_uid"]
    route = checks[("CT 2", "route")]
    assert route["result"] == "fail" and route["diagnosis"]["code"]
    assert checks[("CT 2", "echo")]["result"] == "fail"
    assert ("CT 2", "find") not in checks  # a modality gets no study query by default
    assert report["verdict"] == "warn" and report["counts"]["fail"] >= 3
    text = run_cli("health", SITE, "--no-save", data_dir=data_dir, timeout=180).stdout
    assert "Main PACS" in text and "FAIL CT 2 route" in text and "PASS" in text


def test_worse_than_last_run_is_named(site, data_dir):
    ctx, record = site
    port = _us_node(ctx, record)
    with _scanner(port, "SCANNER_V1"):
        proc, first = _health(data_dir)
        assert proc.returncode == 0, proc.stdout  # everything passed: exit 0
        assert first["verdict"] == "pass" and not first["changes"]
    with _scanner(port, "SCANNER_V2"):  # the vendor upgraded the scanner's software
        proc, second = _health(data_dir)
    assert proc.returncode == 10 and second["previous_run"] == first["run_id"]
    association = _by(second)[("US 1", "association")]
    assert association["result"] == "warn" and "SCANNER_V1 -> SCANNER_V2" in association["summary"]
    assert any("SCANNER_V2" in c["text"] for c in second["changes"])
    proc, third = _health(data_dir)  # now it is down: passed last time, fails now
    assert proc.returncode == 1  # every check failed
    assert any(c["check"] == "echo" and "passed last time" in c["text"] for c in third["changes"])


@pytest.mark.peers
def test_plan_file_allows_a_test_store_and_bad_plans_are_refused(site, data_dir, orthanc,
                                                                  tmp_path):
    ctx, record = site
    _node(ctx, record, "Main PACS", orthanc, "pacs")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"nodes": {"Main PACS": {"checks": ["echo", "store"],
                                                         "allow_store": True, "echo_count": 2}},
                                "thresholds": {"echo_p95_warn_ms": 5000}}), encoding="utf-8")
    proc, report = _health(data_dir, "--plan", str(plan))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [c["check"] for c in report["checks"]] == ["echo", "store"]
    assert _by(report)[("Main PACS", "echo")]["metrics"]["sent"] == 2
    studies = orthanc.rest("GET", "/studies?expand")
    assert [s["MainDicomTags"]["StudyDescription"] for s in studies] == [
        "PACS CONSOLE HEALTH CHECK - TEST DATA"]
    for bad in ({"nodes": {"Nobody": {}}}, {"nodes": {"Main PACS": {"checks": ["rm -rf"]}}},
                {"thresholds": {"echo_p95_warn_ms": "fast"}}, [1, 2]):
        plan.write_text(json.dumps(bad), encoding="utf-8")
        proc = run_cli("health", SITE, "--plan", str(plan), data_dir=data_dir)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    proc = run_cli("health", "Nowhere", data_dir=data_dir)
    assert proc.returncode == 2 and "No site 'Nowhere'" in proc.stderr


def test_site_without_nodes_and_bad_repeat(site, data_dir):
    proc = run_cli("health", SITE, data_dir=data_dir)
    assert proc.returncode == 2 and "no node" in proc.stderr
    proc = run_cli("health", SITE, "--repeat", "0", data_dir=data_dir)
    assert proc.returncode == 2 and "1 to 1440" in proc.stderr


CT, MR = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"
ELE, ILE, J2K = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.90"


def _vendor_scp(port: int, version: str, contexts: dict):
    ae = make_ae("MODALITY1", supported=[VERIFICATION])
    ae.implementation_version_name = version
    ae.require_called_aet = False
    ae.maximum_associations = 32
    for uid, syntaxes in contexts.items():
        ae.add_supported_context(uid, syntaxes)
    return ae.start_server(("127.0.0.1", port), block=False)


@pytest.mark.peers
def test_upgrade_validation_names_every_regression(site, data_dir, orthanc):
    from datetime import UTC, datetime

    from pydicom.uid import generate_uid

    from pacs_console.core.dicom.synth.studies import generate_study
    from tests.core.dicom_ops.helpers import part10

    ctx, record = site
    _node(ctx, record, "Main PACS", orthanc, "pacs")
    port = _closed_port()
    _node(ctx, record, "Vendor router", ("MODALITY1", "127.0.0.1", port), "router")
    for ds in generate_study("CT", images=2, series=1, size=32):
        ds.StudyDate = f"{datetime.now(UTC):%Y%m%d}"
        ds.StudyInstanceUID = ds.StudyInstanceUID if ds.get("StudyInstanceUID") else generate_uid()
        orthanc.upload(part10(ds))
    # Speed is not what this test is about: a loaded test machine's p95 may rise tenfold.
    plan = data_dir / "plan.json"
    plan.write_text(json.dumps({"thresholds": {"p95_increase_pct": 100000}}), encoding="utf-8")
    server = _vendor_scp(port, "ROUTER_4.1", {CT: [ELE, ILE, J2K], MR: [ELE, ILE]})
    try:
        proc = run_cli("health", SITE, "--baseline", "before-4.2", data_dir=data_dir, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "before-4.2" in proc.stdout
        proc, same = _health(data_dir, "--compare", "before-4.2", "--plan", str(plan))
        assert proc.returncode == 0, proc.stdout  # nothing changed: PASS
        assert {c["result"] for c in same["checks"]} == {"pass"}
    finally:
        server.shutdown()
    # The "upgrade": JPEG 2000 dropped for CT, MR dropped, a new version; a study is gone.
    server = _vendor_scp(port, "ROUTER_4.2", {CT: [ELE, ILE]})
    orthanc.clear()
    try:
        proc, after = _health(data_dir, "--compare", "before-4.2", "--plan", str(plan))
        text = run_cli("health", SITE, "--compare", "before-4.2", "--plan", str(plan),
                       data_dir=data_dir, timeout=300).stdout
    finally:
        server.shutdown()
    assert proc.returncode == 10, proc.stdout
    rows = _by(after)
    capabilities = rows[("Vendor router", "capabilities")]
    assert capabilities["result"] == "fail"
    assert "MR Image Storage" in capabilities["summary"]
    assert "CT Image Storage no longer in JPEG 2000" in capabilities["summary"]
    assert rows[("Vendor router", "association")]["result"] == "warn"
    assert "ROUTER_4.1 -> ROUTER_4.2" in rows[("Vendor router", "association")]["summary"]
    studies = rows[("Main PACS", "studies")]
    assert studies["result"] == "fail" and studies["metrics"] == {"before": 1, "after": 0}
    assert rows[("Main PACS", "capabilities")]["result"] == "pass"
    assert "REGRESSIONS" in text and "FAIL  Vendor router capabilities" in text
    proc = run_cli("health", SITE, "--compare", "never-made", data_dir=data_dir)
    assert proc.returncode == 2 and "No baseline 'never-made'" in proc.stderr


def test_visit_report_has_a_site_health_section(site, data_dir, tmp_path):
    import subprocess

    ctx, record = site
    port = _us_node(ctx, record)
    assert run_cli("visit", "start", "--site", SITE, data_dir=data_dir).returncode == 0
    with _scanner(port, "SCANNER_V1"):
        assert _health(data_dir)[0].returncode == 0
    assert _health(data_dir)[0].returncode == 1  # down now: worse than the run before
    assert run_cli("visit", "end", data_dir=data_dir).returncode == 0
    out = tmp_path / "visit.pdf"
    proc = run_cli("report", "build", "--visit", "1", "--no-sign", "--out", str(out),
                   data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Site health" in text and "Worse than the run before" in text
    assert "passed last time" in text and "FAIL" in text


def test_health_runs_feed_uptime(site, data_dir):
    ctx, record = site
    with _scanner(_us_node(ctx, record), "SCANNER_V1"):
        assert _health(data_dir)[0].returncode == 0
    from pacs_console.core.db.nodes import get_node
    from pacs_console.core.db.testruns import list_test_runs

    node = get_node(ctx.db, "US 1")
    echoes = list_test_runs(ctx.db, node_id=node.id, kind="echo-series")
    assert len(echoes) == 1 and echoes[0].outcome == "ok"
    assert echoes[0].metrics["round_trip_ms"]["p95"] > 0


US = "1.2.840.10008.5.1.4.1.1.6.1"


def test_association_names_contexts_added_and_removed_since_the_last_run(site, data_dir):
    ctx, record = site
    port = _closed_port()
    _node(ctx, record, "Vendor router", ("MODALITY1", "127.0.0.1", port), "router")
    server = _vendor_scp(port, "ROUTER_4.1", {CT: [ELE, ILE, J2K], MR: [ELE, ILE]})
    try:
        proc, first = _health(data_dir)
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stdout
    contexts = _by(first)[("Vendor router", "association")]["metrics"]["contexts"]
    assert sorted(contexts[CT]) == sorted([ELE, ILE, J2K]) and MR in contexts
    # The vendor's update: MR and JPEG 2000 for CT gone, ultrasound now accepted; same version.
    server = _vendor_scp(port, "ROUTER_4.1", {CT: [ELE, ILE], US: [ELE]})
    try:
        proc, second = _health(data_dir)
    finally:
        server.shutdown()
    assert proc.returncode == 10, proc.stdout
    association = _by(second)[("Vendor router", "association")]
    assert association["result"] == "warn"
    summary = association["summary"]
    assert "no longer accepted: MR Image Storage" in summary, summary
    assert "CT Image Storage no longer in JPEG 2000" in summary, summary
    assert "newly accepted: Ultrasound Image Storage" in summary, summary
    changes = association["metrics"]["context_changes"]
    assert changes["classes_removed"] == [MR] and changes["classes_added"] == [US]
    assert changes["syntaxes_removed"] == {CT: [J2K]}
    assert any("MR Image Storage" in c["text"] for c in second["changes"])


@pytest.mark.peers
def test_upgrade_validation_flags_changed_character_set_handling(site, data_dir, orthanc):
    """The 'upgrade' switches Orthanc's answers from UTF-8 to Latin-1 (as a reconfigured PACS
    does): a Ghanaian name with ɛ no longer reads the same, and the report says so."""
    from datetime import UTC, datetime

    from pacs_console.core.dicom.synth.studies import generate_study
    from tests.core.dicom_ops.helpers import part10

    ctx, record = site
    orthanc.clear()
    _node(ctx, record, "Main PACS", orthanc, "pacs")
    for ds in generate_study("CT", images=1, series=1, size=32, seed=11):
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = "Mensah^Ɛfua"
        ds.StudyDate = f"{datetime.now(UTC):%Y%m%d}"
        orthanc.upload(part10(ds))
    proc = run_cli("health", SITE, "--baseline", "utf8", data_dir=data_dir, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc, same = _health(data_dir, "--compare", "utf8")
    summary = _by(same)[("Main PACS", "charset")]["summary"]
    assert "1 non-ASCII patient name(s) read as before; answers declare ISO_IR 192 (1)" in \
        summary, summary
    import urllib.request

    def encoding(name: bytes) -> None:  # Orthanc answers the new encoding as plain text
        request = urllib.request.Request(orthanc.url + "/tools/default-encoding", data=name,
                                         method="PUT")
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.read().strip() == name

    encoding(b"Latin1")
    try:
        proc, after = _health(data_dir, "--compare", "utf8")
    finally:
        encoding(b"Utf8")
    assert proc.returncode == 10, proc.stdout
    charset = _by(after)[("Main PACS", "charset")]
    assert charset["result"] == "fail", charset
    assert "Character set handling changed" in charset["summary"]
    assert "non-ASCII characters Ɛ before, none now" in charset["summary"], charset["summary"]
    # The term the answers declared (0008,0005) is recorded and compared, study by study too.
    assert "Specific Character Set declared ISO_IR 192 (1) before, ISO_IR 100 (1) now" in \
        charset["summary"], charset["summary"]
    assert "1 sampled study(ies) declare another Specific Character Set (ISO_IR 192 -> " \
        "ISO_IR 100)" in charset["summary"], charset["summary"]
    assert charset["metrics"]["declared_before"] == {"ISO_IR 192": 1}
    assert "Mensah" not in proc.stdout  # names are digests in the evidence, never the text
    assert _by(after)[("Main PACS", "studies")]["result"] == "pass"  # same count: only text
