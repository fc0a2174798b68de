"""Site health, archive spot-check and DR comparison (issue 18), each a whole ``pacs-console``
process against peers on loopback, compared with a measurement taken in the same run:

- ``health SITE`` of 20 nodes (18 answering, one silent, one refusing) against the same command
  for a site holding only the slowest of those nodes (found first, each node alone); every
  check must also end within the timeouts configured for it.
- ``archive check NODE --sample 100 --retrieve move`` of 100 studies x 50 instances on
  Orthanc, in instances per second, against a C-MOVE of the same 5,000 instances (movescu into
  storescp): C-MOVE against C-MOVE, the console receiving on its own Storage SCP. Politeness
  as an engineer sets it for this comparison (``SPOT_POLITENESS``, named in the case): no
  spacing and one study at a time, as movescu moves with no pause over one association (the
  product's default stays polite: 0.2 s between study starts, two studies at once).
- ``archive compare`` of two archives with 10,000 studies over one year against the two
  study-level C-FINDs it needs (two findscu processes). The archives are pynetdicom C-FIND
  SCPs answering from memory (loading 20,000 studies into two Orthancs takes far longer than
  the comparison); both sides of the ratio query the same two SCPs.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import date, timedelta

from tests.bench import peers_env as env
from tests.bench.runner import Case
from tests.loopback import LoopbackListener

SITE, ALONE = "Bench General Hospital", "Bench slowest node"
ANSWERING = 18
CONNECT_S, ACSE_S = 2.0, 1.0  # the configured timeouts the silent node runs into
SPOT_STUDIES, SPOT_IMAGES = 100, 50
SPOT_POLITENESS = ("--interval", "0", "--parallel", "1")
DR_STUDIES, DR_MISSING, DR_MISMATCHED = 10_000, 40, 10
VERIFICATION = "1.2.840.10008.1.1"
_state: dict = {}


def _settings_dir(prefix: str, *, short_timeouts: bool = False):
    """A data folder; ``short_timeouts`` for the health case's silent node only (a loaded
    machine can take more than a second to accept an association)."""
    from pacs_console.core.settings import Settings, save_settings
    from pacs_console.paths import app_paths

    folder = env.scratch(prefix)
    settings = Settings(scp_port=env.ports()["console_scp"])
    if short_timeouts:
        settings = Settings(connect_timeout=CONNECT_S, acse_timeout=ACSE_S,
                            scp_port=env.ports()["console_scp"])
    save_settings(app_paths(folder).settings_file, settings)
    return folder


# -- health of a 20-node site ---------------------------------------------------------------
class _Silent(LoopbackListener):
    """Accepts TCP connections and never says a word (a hung PACS)."""

    def __init__(self) -> None:
        super().__init__(backlog=256)

    def handle(self, conn: socket.socket) -> None:
        self.hold(conn)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health_setup() -> None:
    from pacs_console.core.context import Context
    from pacs_console.core.db.nodes import save_node
    from pacs_console.core.dicom.wire.ae import make_ae
    from pacs_console.core.health.plan import default_plan
    from pacs_console.core.health.runner import run_health
    from pacs_console.core.incidents.sites import save_site
    from pacs_console.core.models import drain
    from pacs_console.paths import app_paths

    servers = []
    for _ in range(ANSWERING):  # one AE each: the association limit is per AE
        ae = make_ae("BENCHWS", supported=[VERIFICATION])
        ae.require_called_aet = False
        ae.maximum_associations = 32
        servers.append(ae.start_server(("127.0.0.1", 0), block=False))
    silent = _Silent()
    folder = _settings_dir("pacs-bench-health-", short_timeouts=True)
    ctx = Context.open(app_paths(folder))
    try:
        site, alone = save_site(ctx.db, SITE), save_site(ctx.db, ALONE)
        nodes = [(f"Workstation {n + 1:02d}", s.server_address[1]) for n, s in enumerate(servers)]
        nodes += [("Hung PACS", silent.port), ("Switched-off CR", _closed_port())]
        for name, port in nodes:
            save_node(ctx.db, name, "BENCHWS", "127.0.0.1", port, tags="workstation",
                      site_id=site.id)
        # Each node alone (in this process), to know which is the slowest.
        from pacs_console.core.db.nodes import list_nodes

        by_name = {n.name: n for n in list_nodes(ctx.db)}
        seconds = {}
        for name, _port in nodes:
            start = time.perf_counter()
            drain(run_health(ctx.db, ctx.settings, default_plan(SITE, [by_name[name]]),
                              save=False))
            seconds[name] = time.perf_counter() - start
        slowest = max(seconds, key=seconds.get)
        node = by_name[slowest]
        save_node(ctx.db, f"{slowest} (alone)", node.ae_title, node.host, node.port,
                  tags=node.tags, site_id=alone.id)
    finally:
        ctx.close()
    _state.update(servers=servers, silent=silent, health_dir=folder, slowest=slowest,
                  alone_s=seconds)


def _health_teardown() -> None:
    for server in _state.pop("servers", []):
        server.shutdown()
    _state.pop("silent").close()


def _timeout_bound_ms(check: dict) -> float:
    """The most a check may take with the configured timeouts (5 connects, N echoes)."""
    per_association = (CONNECT_S + ACSE_S) * 1000
    sent = (check.get("metrics") or {}).get("sent", 1) or 1
    return {"route": 5 * CONNECT_S * 1000, "echo": sent * per_association,
            "association": per_association}.get(check["check"], per_association) + 250


def _health_once() -> dict[str, float]:
    folder = _state["health_dir"]
    site_s = env.timed(env.console("health", SITE, "--json", "--no-save", data=folder),
                       ok=(0, 1, 10))
    alone_s = env.timed(env.console("health", ALONE, "--json", "--no-save", data=folder),
                        ok=(0, 1, 10))
    proc = subprocess.run(env.console("health", SITE, "--json", "--no-save", data=folder),
                          capture_output=True, text=True, cwd=env.ROOT, env=env.PY_ENV,
                          timeout=300)
    checks = json.loads(proc.stdout)["checks"]
    worst = max(c["duration_ms"] / _timeout_bound_ms(c) for c in checks)
    if worst > 1.0:
        raise AssertionError(f"a check ran over its configured timeouts ({worst:.2f} x)")
    verdicts = {(c["node"], c["check"]): c["result"] for c in checks}
    assert verdicts[("Hung PACS", "echo")] == "fail"
    assert verdicts[("Switched-off CR", "route")] == "fail"
    assert verdicts[("Workstation 01", "echo")] != "fail"
    return {"site_s": site_s, "slowest_node_alone_s": alone_s,
            "worst_check_vs_its_timeouts": worst}


# -- archive spot-check ---------------------------------------------------------------------
_STUDIES = """
import sys
from pathlib import Path
from pacs_console.core.dicom.synth.studies import generate_study, write_study
count, images, folder = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
for n in range(count):
    modality = ("CT", "MR", "CR", "US")[n % 4]
    study = generate_study(modality, images=images, series=1, size=64, seed=5000 + n)
    for ds in study:
        ds.PatientID = "BENCH-ARCHIVE"
        ds.StudyDate = f"{2022 + n % 4}0{1 + n % 9}15"
    write_study(study, folder / f"study{n:03d}")
"""


def _spot_setup() -> None:
    peer = env.orthanc()
    env.sink()
    peer.clear()
    folder = env.scratch("pacs-bench-spot-") / "studies"
    subprocess.run([sys.executable, "-c", _STUDIES, str(SPOT_STUDIES), str(SPOT_IMAGES),
                    str(folder)], check=True, cwd=env.ROOT)
    env.timed(env.console("store", "--no-save", *env.target_args(), str(folder)), ok=(0,))
    data = _settings_dir("pacs-bench-spot-data-")
    from pacs_console.core.context import Context
    from pacs_console.core.db.nodes import save_node
    from pacs_console.paths import app_paths

    ctx = Context.open(app_paths(data))
    try:
        save_node(ctx.db, "Orthanc archive", peer.aet, peer.host, peer.dicom_port, tags="archive")
    finally:
        ctx.close()
    _state["spot_dir"] = data
    assert len(peer.rest("GET", "/instances")) == SPOT_STUDIES * SPOT_IMAGES


def _spot_once() -> dict[str, float]:
    total = SPOT_STUDIES * SPOT_IMAGES
    sink = env.sink()
    sink.clear()
    move_s = env.dcmtk("/usr/bin/movescu", "-P", "-aem", env.SINK_AET, "-k",
                       "QueryRetrieveLevel=PATIENT", "-k", "PatientID=BENCH-ARCHIVE",
                       *env.dcmtk_target())
    assert len(sink.files()) == total, len(sink.files())
    start = time.perf_counter()
    proc = subprocess.run(env.console("archive", "check", "Orthanc archive", "--sample",
                                      str(SPOT_STUDIES), "--retrieve", "move", "--json",
                                      *SPOT_POLITENESS, data=_state["spot_dir"]),
                          capture_output=True, text=True, cwd=env.ROOT, env=env.PY_ENV,
                          timeout=1800)
    check_s = time.perf_counter() - start
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, [(c["result"], c["problems"], c["short"], c["missing"][:2])
                                  for c in report["checks"] if c["result"] != "pass"][:3]
    received = sum(c["received"] for c in report["checks"])
    assert received == total, received
    assert report["politeness"] == {"interval_s": 0.0, "parallel": 1}, report["politeness"]
    return {"spot_check_instances_per_s": total / check_s, "c_move_instances_per_s":
            total / move_s, "spot_check_s": check_s, "movescu_s": move_s}


# -- DR comparison --------------------------------------------------------------------------
class _Archive:
    """A pynetdicom C-FIND SCP answering study-level rows from memory."""

    def __init__(self, aet: str, rows) -> None:
        from pynetdicom import AE, evt
        from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

        self.aet, self.rows = aet, rows
        ae = AE(aet)
        ae.require_called_aet = False
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
        self.server = ae.start_server(("127.0.0.1", 0), block=False,
                                      evt_handlers=[(evt.EVT_C_FIND, self._find)])
        self.port = self.server.server_address[1]

    def _find(self, event):
        for ds in self.rows:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, ds

    def stop(self) -> None:
        self.server.shutdown()


def _rows(count: int, skip: int, mismatched: int):
    from pydicom import Dataset

    first = date.today() - timedelta(days=364)
    missing = set(range(0, count, count // skip)[:skip]) if skip else set()
    changed = set(range(count - 1, count - 1 - mismatched, -1))  # the newest: never missing
    rows = []
    for n in range(count):
        if n in missing:
            continue
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.StudyInstanceUID = f"1.2.826.0.1.3680043.8.498.18.{n + 1}"
        ds.StudyDate = f"{first + timedelta(days=n * 365 // count):%Y%m%d}"
        ds.StudyTime = f"{8 + n % 10:02d}{n % 60:02d}00"
        ds.ModalitiesInStudy = ("CT", "MR", "CR", "US")[n % 4]
        ds.NumberOfStudyRelatedSeries = "2"
        ds.NumberOfStudyRelatedInstances = str(100 - (1 if n in changed else 0))
        rows.append(ds)
    return rows


def _dr_setup() -> None:
    from pacs_console.core.context import Context
    from pacs_console.core.db.nodes import save_node
    from pacs_console.paths import app_paths

    primary = _Archive("PRIMARY", _rows(DR_STUDIES, 0, 0))
    dr = _Archive("DRCOPY", _rows(DR_STUDIES, DR_MISSING, DR_MISMATCHED))
    data = _settings_dir("pacs-bench-dr-")
    ctx = Context.open(app_paths(data))
    try:
        save_node(ctx.db, "Primary", "PRIMARY", "127.0.0.1", primary.port, tags="archive")
        save_node(ctx.db, "DR copy", "DRCOPY", "127.0.0.1", dr.port, tags="archive")
    finally:
        ctx.close()
    _state.update(primary=primary, dr=dr, dr_dir=data)


def _dr_teardown() -> None:
    _state.pop("primary").stop()
    _state.pop("dr").stop()


def _findscu(archive: _Archive, first: str, last: str) -> float:
    return env.dcmtk("/usr/bin/findscu", "-S", "-aet", env.SCU, "-aec", archive.aet,
                     "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyDate={first}-{last}",
                     "-k", "StudyInstanceUID", "-k", "StudyTime", "-k", "ModalitiesInStudy",
                     "-k", "NumberOfStudyRelatedSeries", "-k", "NumberOfStudyRelatedInstances",
                     "127.0.0.1", str(archive.port))


def _dr_once() -> dict[str, float]:
    first, last = date.today() - timedelta(days=365), date.today()
    finds = (_findscu(_state["primary"], f"{first:%Y%m%d}", f"{last:%Y%m%d}")
             + _findscu(_state["dr"], f"{first:%Y%m%d}", f"{last:%Y%m%d}"))
    start = time.perf_counter()
    proc = subprocess.run(env.console("archive", "compare", "Primary", "DR copy", "--from",
                                      f"{first:%Y-%m-%d}", "--to", f"{last:%Y-%m-%d}", "--json",
                                      data=_state["dr_dir"]),
                          capture_output=True, text=True, cwd=env.ROOT, env=env.PY_ENV,
                          timeout=600)
    compare_s = time.perf_counter() - start
    assert proc.returncode == 10, proc.stderr[-400:]
    report = json.loads(proc.stdout)
    assert report["primary_studies"] == DR_STUDIES
    assert len(report["only_on_primary"]) == DR_MISSING
    assert len(report["count_mismatches"]) == DR_MISMATCHED
    return {"compare_s": compare_s, "two_findscu_s": finds}


def cases() -> list[Case]:
    return [
        Case("health: site of 20 nodes (1 silent, 1 refusing), whole process / the slowest "
             "node alone", _health_once, "site_s", 1.2, peer_metric="slowest_node_alone_s",
             peer_name="slowest node alone", ratio=True, setup=_health_setup,
             teardown=_health_teardown),
        Case(f"archive: spot-check {SPOT_STUDIES} studies x {SPOT_IMAGES} instances "
             f"({' '.join(SPOT_POLITENESS)}), instances/s / C-MOVE (movescu into storescp)",
             _spot_once,
             "spot_check_instances_per_s", 0.8, lower_is_better=False,
             peer_metric="c_move_instances_per_s", peer_name="movescu+storescp", ratio=True,
             unit="inst/s", setup=_spot_setup, teardown=env.stop_peers),
        Case(f"archive: DR comparison of {DR_STUDIES:,} studies over a year / its two "
             "study-level C-FINDs (findscu)", _dr_once, "compare_s", 1.5,
             peer_metric="two_findscu_s", peer_name="2 x findscu", ratio=True,
             setup=_dr_setup, teardown=_dr_teardown),
    ]
