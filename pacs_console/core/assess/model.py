"""Plain data of an assessment: findings, what was not tested, per-node and site scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pacs_console.core.models import Plain, Progress

SEVERITIES = ("info", "low", "medium", "high", "critical")
# CVSS v3 qualitative bands, taken at their upper ends: what one finding of each severity costs
# a node out of 100. Node score = max(0, 100 - sum of the penalties of its findings); the site
# score is its weakest node's (a network is as open as its most open node).
PENALTY = {"info": 0, "low": 3, "medium": 10, "high": 25, "critical": 40}
SCORE_FORMULA = ("node score = max(0, 100 - sum of penalties: critical 40, high 25, medium 10, "
                 "low 3, info 0); site score = the lowest node score")


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Finding(Plain):
    """One weakness (or, at severity info, one noted fact) of one service."""

    host: str
    port: int
    check: str  # the finding class, see catalog.CHECKS
    severity: str
    evidence: str
    remedy: str
    title: str = ""

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.host, self.port, self.check)


@dataclass(frozen=True)
class NotTested(Plain):
    """A check that did not run on a service, and why (listed in the report)."""

    host: str
    port: int
    check: str
    reason: str


@dataclass(frozen=True)
class Service:
    """One port to assess: ``kind`` dicom, dicom-tls, http, https, hl7 (or unknown-tls)."""

    host: str
    port: int
    kind: str
    ae_title: str = ""  # the called AE title known for a DICOM service ("" unknown)
    any_ae: bool = False  # the sweep saw it accept any called AE
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    product: str = ""
    version: str = ""
    dicomweb_url: str = ""


@dataclass(frozen=True)
class AssessOptions:
    families: tuple[str, ...] = ()  # () = every family; see catalog.FAMILIES
    allow_store_test: bool = False
    allow_hl7_test: bool = False
    # Ask to move ONE existing study to an unconfigured AE (a node that resolves the title
    # anywhere may send it there; our listener refuses what comes to us).
    allow_move_test: bool = False
    move_listen_port: int = 0  # where the C-MOVE check listens (0: OS-assigned; busy: same)
    calling_ae: str = "PACSCONSOLE"  # this console's title (configured on the nodes, maybe)
    unknown_ae: str = "PCA-UNKNOWN-AE"  # a calling AE no node is configured for
    timeout: float = 3.0
    concurrency: int = 8  # nodes assessed at once
    interval: float = 0.1  # seconds between two connections to the same node
    site_titles: tuple[str, ...] = ()  # AE titles configured at the site (move destinations)

    def wants(self, family: str) -> bool:
        return not self.families or family in self.families


@dataclass
class NodeReport:
    host: str
    findings: list[Finding] = field(default_factory=list)
    not_tested: list[NotTested] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> int:
        return max(0, 100 - sum(PENALTY[f.severity] for f in self.findings))

    @property
    def worst(self) -> str:
        return max((f.severity for f in self.findings), key=rank, default="info")

    def to_dict(self) -> dict:
        return {"host": self.host, "score": self.score, "worst": self.worst,
                "seconds": round(self.seconds, 3),
                "services": [f"{s.kind}:{s.port}" for s in self.services]}


@dataclass(frozen=True)
class AssessProgress(Progress):
    """Yielded during an assessment; ``node`` is a node just finished (or None)."""

    node: NodeReport | None = None
    phase: str = "assess"  # discover, assess, done


@dataclass
class Assessment:
    site: str
    targets: str
    started_at: datetime
    nodes: list[NodeReport]
    options: AssessOptions
    duration_s: float = 0.0
    discovery_s: float = 0.0
    quiet_hosts: list[str] = field(default_factory=list)  # tried, no service answered


    @property
    def findings(self) -> list[Finding]:
        return [f for n in self.nodes for f in n.findings]

    @property
    def not_tested(self) -> list[NotTested]:
        return [t for n in self.nodes for t in n.not_tested]

    @property
    def score(self) -> int | None:
        """The weakest node's score; None when no service answered (nothing was assessed)."""
        return min((n.score for n in self.nodes), default=None)

    @property
    def above_low(self) -> bool:
        return any(rank(f.severity) > rank("low") for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def to_dict(self) -> dict:
        return {"site": self.site, "targets": self.targets,
                "started_at": self.started_at.isoformat(),
                "duration_s": round(self.duration_s, 3), "discovery_s": round(self.discovery_s, 3),
                "score": self.score, "score_formula": SCORE_FORMULA, "counts": self.counts(),
                "nodes": [n.to_dict() for n in self.nodes], "quiet_hosts": self.quiet_hosts,
                "findings": [f.to_dict() for f in self.findings],
                "not_tested": [t.to_dict() for t in self.not_tested],
                "options": {"checks": list(self.options.families) or "all",
                            "allow_store_test": self.options.allow_store_test,
                            "allow_hl7_test": self.options.allow_hl7_test,
                            "allow_move_test": self.options.allow_move_test}}
