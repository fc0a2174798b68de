"""An assessment as the window and the command line run it: SITE or TARGETS resolved, the
assessment run, then kept in the site's history and compared with the previous one."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from pacs_console.core.assess import history, runner
from pacs_console.core.assess.hl7_checks import DEFAULT_PORTS as HL7_PORTS
from pacs_console.core.assess.model import AssessOptions, AssessProgress
from pacs_console.core.errors import ConsoleError, Diagnosis


@dataclass(frozen=True)
class Scope:
    """What to assess: ``text`` is a site's name or targets; the ports are for a sweep."""

    text: str
    site: str = ""  # with targets: the site the assessment belongs to
    ports: tuple[int, ...] | None = None  # None: discovery's defaults
    web_ports: tuple[int, ...] | None = None
    hl7_ports: tuple[int, ...] = HL7_PORTS
    allow_public: bool = False


@dataclass(frozen=True)
class Saved:
    data: dict  # Assessment.to_dict()
    comparison: dict
    path: Path | None  # where history keeps it (None: not saved)

    @property
    def site(self) -> str:
        return self.data.get("site") or ""


def site_hosts(db, name: str):
    """Services of a site's address-book nodes and last sweep; None when no such site."""
    from pacs_console.core.assess.plan import from_site
    from pacs_console.core.db.nodes import list_nodes
    from pacs_console.core.db.sweeps import list_sweeps, site_id_for, sweep_findings

    site_id = site_id_for(db, name, create=False)
    if site_id is None:
        return None
    nodes = [n for n in list_nodes(db) if n.site_id == site_id]
    sweeps = list_sweeps(db, site_id, limit=1)
    hosts = from_site(nodes, sweep_findings(db, sweeps[0].id) if sweeps else [])
    if not hosts:
        raise ConsoleError(Diagnosis(
            "assess-empty-site", f"Site {name!r} has no nodes in the address book and no sweep",
            actions=("give targets (a network or addresses), or sweep the site first",)))
    return hosts


def start(db, settings, scope: Scope, options: AssessOptions
          ) -> Generator[AssessProgress, None, object]:
    """The assessment generator for ``scope`` (ConsoleError for bad targets or an empty site)."""
    from pacs_console.core.discovery.models import SweepOptions
    from pacs_console.core.discovery.session import with_known_titles
    from pacs_console.core.discovery.targets import DICOM_PORTS, WEB_PORTS, parse_targets

    text = scope.text.strip()
    hosts = site_hosts(db, text) if text and not text[0].isdigit() else None
    if hosts is not None:
        return runner.run_assessment(hosts, options, site=text, targets=text,
                                     hl7_ports=scope.hl7_ports)
    targets = parse_targets(text, allow_public=scope.allow_public)
    sweep = SweepOptions.from_settings(
        settings, ports=DICOM_PORTS if scope.ports is None else scope.ports,
        web_ports=WEB_PORTS if scope.web_ports is None else scope.web_ports,
        timeout=min(options.timeout, 1.5))
    sweep = with_known_titles(db, sweep, scope.site or None)
    titles = {key: (value if isinstance(value, str) else value[0])
              for key, value in sweep.known.items()}
    return runner.assess_targets(targets, options, sweep, hl7_ports=scope.hl7_ports,
                                 titles=titles, site=scope.site)


def assess_and_save(db, settings, data_dir: Path, scope: Scope, options: AssessOptions, *,
                    save: bool = True) -> Generator[AssessProgress, None, Saved]:
    """Run the assessment, compare it with the site's previous one and keep it.

    Bad targets or an empty site raise ConsoleError before anything is sent. A cancelled
    assessment (the generator closed) keeps nothing."""
    assessment = yield from start(db, settings, scope, options)
    data = assessment.to_dict()
    key = data["site"] or data["targets"]
    comparison = history.compare(history.previous(data_dir, key, data["started_at"]), data)
    return Saved(data, comparison, history.save(data_dir, data) if save else None)


def summary(data: dict) -> str:
    """One line: nodes, findings by severity, what was not run, the score, the time."""
    if not data["nodes"]:
        return (f"No service answered on {data['targets']}: nothing was assessed "
                f"({len(data['quiet_hosts'])} hosts tried; {data['duration_s']:.1f} s)")
    counts = ", ".join(f"{n} {s}" for s, n in data["counts"].items() if n)
    return (f"{len(data['nodes'])} nodes, {len(data['findings'])} findings "
            f"({counts or 'none'}), {len(data['not_tested'])} checks not run; site score "
            f"{data['score']}; {data['duration_s']:.1f} s")
