"""The check plan: which checks run on which node, made from the site's address book.

Defaults follow the node's role (its tags): every node gets route; every DICOM node echo and
association; a PACS or archive a study-level C-FIND over a bounded date range; a RIS a worklist
query; a node with TLS a certificate check; a node given a known study in the plan
(``retrieve_study_uid``) a C-GET of that study into the console; a DICOMweb node a QIDO-RS study search; an HL7
interface the HL7 check. A node tagged only dicomweb or hl7 is not spoken DICOM to. Two checks
change the site's data and run only with the engineer's consent in the plan file: the C-STORE of
one generated test image (``allow_store``) and the test ADT sent to an HL7 test interface
(``allow_hl7``); without it they show as skipped. The test studies are removed afterwards
(``health SITE --remove-test-data``) through Orthanc's REST API where the plan gives its root
(``rest_url``), else listed by UID for the PACS administrator. A plan file (JSON) may change any
of this per node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from pacs_console.core.errors import ConsoleError, Diagnosis

CHECKS = ("route", "echo", "association", "tls", "find", "worklist", "retrieve", "dicomweb",
          "hl7", "store")
NON_DICOM_ROLES = {"dicomweb", "hl7"}  # a node tagged only with these does not speak DICOM
MAX_PLAN_BYTES = 256 * 1024
MAX_NODES = 500


@dataclass(frozen=True)
class Thresholds:
    echo_p95_warn_ms: float = 500.0  # a slower p95 is a warning
    route_loss_warn_pct: float = 0.0  # any loss is a warning
    p95_increase_pct: float = 50.0  # worse than the last run by this much (and 20 ms) is a change
    cert_days_warn: int = 30


@dataclass(frozen=True)
class NodePlan:
    node: str  # address-book name
    checks: tuple[str, ...]
    allow_store: bool = False
    station_ae: str = ""
    find_days: int = 30
    echo_count: int = 5
    dicomweb_url: str = ""  # empty: http://HOST:PORT/dicom-web of the node
    allow_hl7: bool = False  # consent: a test ADT^A04 (processing ID T) to this interface
    hl7_port: int = 0  # 0: the node's port
    retrieve_study_uid: str = ""  # a known study: C-GET it into the console (adds "retrieve")
    rest_url: str = ""  # Orthanc's REST API root: the test C-STORE's studies removed through it


@dataclass(frozen=True)
class Plan:
    site: str
    nodes: tuple[NodePlan, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)

    def to_dict(self) -> dict:
        return {"site": self.site, "thresholds": vars(self.thresholds).copy(),
                "nodes": {n.node: {"checks": list(n.checks), "allow_store": n.allow_store,
                                   "station_ae": n.station_ae, "find_days": n.find_days,
                                   "echo_count": n.echo_count, "dicomweb_url": n.dicomweb_url,
                                   "allow_hl7": n.allow_hl7, "hl7_port": n.hl7_port,
                                   "retrieve_study_uid": n.retrieve_study_uid,
                                   "rest_url": n.rest_url}
                          for n in self.nodes}}


def _tags(node) -> set[str]:
    return {t.strip().lower() for t in (node.tags or "").replace(";", ",").split(",") if t.strip()}


def default_checks(node) -> tuple[str, ...]:
    tags = _tags(node)
    checks = ["route"]
    if not tags or tags - NON_DICOM_ROLES:
        checks += ["echo", "association"]
    if getattr(node, "tls", False):
        checks.append("tls")
    if tags & {"pacs", "archive", "demo"}:
        checks.append("find")
    if tags & {"ris", "worklist"}:
        checks.append("worklist")
    if "dicomweb" in tags:
        checks.append("dicomweb")
    if "hl7" in tags:
        checks.append("hl7")
    return tuple(checks)


def default_plan(site: str, nodes) -> Plan:
    return Plan(site, tuple(NodePlan(n.name, default_checks(n)) for n in nodes))


def site_plan(db, site: str, plan_file: Path | str | None = None) -> tuple[object, Plan | None]:
    """(the site, its plan: the defaults of its nodes' roles with the plan file's changes);
    the plan is None when the site has no node. ConsoleError for an unknown site or an unusable
    plan file."""
    from pacs_console.core.db.nodes import list_nodes
    from pacs_console.core.incidents.sites import get_site

    record = get_site(db, site)
    nodes = [n for n in list_nodes(db) if n.site_id == record.id]
    if not nodes:
        return record, None
    return record, (load_plan(Path(plan_file), record.name, nodes) if plan_file
                    else default_plan(record.name, nodes))


def _fail(what: str, why: str) -> ConsoleError:
    return ConsoleError(Diagnosis("health-plan", what, (why,),
                                  ("Fix the plan file: see README, Site health check",)))


def load_plan(path: Path, site: str, nodes) -> Plan:
    """The default plan for ``nodes`` with the plan file's changes; ConsoleError when unusable."""
    path = Path(path)
    try:
        if not path.is_file():
            raise _fail(f"No plan file {path}", "the path is not a regular file")
        if path.stat().st_size > MAX_PLAN_BYTES:
            raise _fail(f"Plan file {path.name} is too large", f"over {MAX_PLAN_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(f"Cannot read the plan file {path.name}", f"{type(exc).__name__}: {exc}"[:200]) from exc
    return apply_plan(default_plan(site, nodes), data)


def _number(value, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(f"Plan value {name} must be a number from {low:g} to {high:g}", repr(value)[:60])
    return float(value)


def _url(url, key: str, name: str) -> str:
    if not isinstance(url, str) or len(url) > 500 or (
            url and not url.lower().startswith(("http://", "https://"))):
        raise _fail(f"{key} of {name!r} must be an http(s) URL", repr(url)[:60])
    return url


def apply_plan(plan: Plan, data) -> Plan:
    if not isinstance(data, dict):
        raise _fail("The plan file must hold a JSON object", type(data).__name__)
    thresholds = plan.thresholds
    for key, value in (data.get("thresholds") or {}).items():
        if key not in vars(thresholds):
            raise _fail(f"Unknown threshold {key!r}", f"known: {', '.join(vars(thresholds))}")
        limit = 3650 if key == "cert_days_warn" else 100000
        number = _number(value, key, 0, limit)
        thresholds = replace(thresholds, **{key: int(number) if key == "cert_days_warn" else number})
    nodes = {n.node: n for n in plan.nodes}
    given = data.get("nodes") or {}
    if not isinstance(given, dict) or len(given) > MAX_NODES:
        raise _fail("'nodes' must be an object of node name -> settings", "at most 500 nodes")
    for name, spec in given.items():
        if name not in nodes:
            raise _fail(f"The plan names {name!r}, which is not a node of site {plan.site}",
                        "names must match the address book")
        if not isinstance(spec, dict):
            raise _fail(f"Settings of {name!r} must be an object", type(spec).__name__)
        current = nodes[name]
        checks = spec.get("checks", list(current.checks))
        if (not isinstance(checks, list) or not all(isinstance(c, str) for c in checks)
                or set(checks) - set(CHECKS)):
            raise _fail(f"Checks of {name!r} must be a list of {', '.join(CHECKS)}", repr(checks)[:80])
        station = spec.get("station_ae", current.station_ae)
        if not isinstance(station, str) or len(station) > 16:
            raise _fail(f"station_ae of {name!r} must be an AE title", repr(station)[:40])
        url, rest = (_url(spec.get(key, getattr(current, key)), key, name)
                     for key in ("dicomweb_url", "rest_url"))
        known = spec.get("retrieve_study_uid", current.retrieve_study_uid)
        if not isinstance(known, str) or len(known) > 64 or not all(
                c.isdigit() or c == "." for c in known):
            raise _fail(f"retrieve_study_uid of {name!r} must be a Study Instance UID",
                        repr(known)[:70])
        if known and "retrieve" not in checks:
            checks = [*checks, "retrieve"]
        for key in ("allow_store", "allow_hl7"):
            if not isinstance(spec.get(key, False), bool):
                raise _fail(f"{key} of {name!r} must be true or false", repr(spec[key])[:20])
        nodes[name] = replace(
            current, checks=tuple(dict.fromkeys(checks)),
            allow_store=spec.get("allow_store", current.allow_store), station_ae=station,
            dicomweb_url=url, rest_url=rest, allow_hl7=spec.get("allow_hl7", current.allow_hl7),
            retrieve_study_uid=known,
            hl7_port=int(_number(spec.get("hl7_port", current.hl7_port), "hl7_port", 0, 65535)),
            find_days=int(_number(spec.get("find_days", current.find_days), "find_days", 1, 3650)),
            echo_count=int(_number(spec.get("echo_count", current.echo_count), "echo_count", 1, 50)))
    return Plan(plan.site, tuple(nodes.values()), thresholds)
