"""Plain data of a sweep: options, findings per open port, DNS-SD announcements, progress, result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from pacs_console.core.discovery.targets import DICOM_PORTS, WEB_PORTS, TargetSet
from pacs_console.core.models import Plain, Progress

# DICOM port verdicts
ANY_AE = "dicom-any-ae"  # accepts any called AE title: insecure
CHECKS_AE = "dicom-checks-ae"
REJECTED = "dicom-rejected"  # DICOM, but refused us for another reason (calling AE, busy)
NOT_DICOM = "not-dicom"
SILENT = "silent"  # accepted TCP, never answered
# HTTP port verdicts
DICOMWEB = "dicomweb"
HTTP = "http"  # an HTTP server without DICOMweb
NOT_HTTP = "not-http"
DICOM_VERDICTS = (ANY_AE, CHECKS_AE, REJECTED)


@dataclass(frozen=True)
class SweepOptions:
    """How to sweep; defaults are polite enough for a clinical network."""

    ports: tuple[int, ...] = DICOM_PORTS
    web_ports: tuple[int, ...] = WEB_PORTS
    rate: float = 200.0  # connection attempts per second, all hosts together
    concurrency: int = 64  # connection attempts in flight
    timeout: float = 1.5  # per connect, and per wait for a DICOM or HTTP answer
    calling_ae: str = "PACSCONSOLE"
    guess_ae: bool = False
    guess_interval: float = 0.05  # between two guesses on the same node
    max_guesses: int = 128
    dns_sd: bool = False
    dns_sd_seconds: float = 2.0
    dns_sd_interfaces: tuple[str, ...] = ()  # addresses to browse on; () = all
    # Titles already known: (host, port) -> AE title or (title, source), and every title at
    # the site.
    known: dict[tuple[str, int], str | tuple[str, str]] = field(default_factory=dict)
    site_titles: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings, **overrides) -> SweepOptions:
        values = dict(rate=float(settings.scan_rate), concurrency=settings.scan_concurrency,
                      timeout=settings.scan_timeout, calling_ae=settings.ae_title)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class Finding:
    """One open host:port and what answered there. Saved as a row of the sweep_finding table,
    whose columns are these fields (core.db.tables): a field added here needs a migration."""

    host: str
    port: int
    service: str  # dicom or http
    verdict: str
    latency_ms: float = 0.0  # TCP connect
    ae_title: str = ""
    ae_source: str = ""  # address-book, announced, dictionary, site-inventory
    guesses: int = 0
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    vendor: str = ""
    product: str = ""
    version: str = ""
    confidence: str = ""
    dicomweb_url: str = ""
    detail: str = ""

    @property
    def insecure(self) -> bool:
        return self.verdict == ANY_AE

    @property
    def is_dicom(self) -> bool:
        return self.verdict in DICOM_VERDICTS

    @property
    def key(self) -> tuple[str, int]:
        return (self.host, self.port)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["insecure"] = self.insecure
        return data


@dataclass(frozen=True)
class Announcement(Plain):
    """A DNS-SD service instance: DICOM nodes may announce themselves with their AE title."""

    service_type: str  # _dicom._tcp, _dicom-tls._tcp, _dicomweb._tcp
    instance: str
    host: str
    port: int
    ae_title: str = ""
    txt: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepProgress(Progress):
    """Yielded during a sweep: ``findings`` holds only those new since the previous yield."""

    findings: tuple[Finding, ...] = ()
    announcements: tuple[Announcement, ...] = ()
    open_ports: int = 0
    eta_s: float | None = None
    phase: str = "sweep"  # sweep, probe, done


@dataclass(frozen=True)
class SweepResult:
    targets: TargetSet
    options: SweepOptions
    started_at: datetime
    duration_s: float
    attempts: int
    findings: tuple[Finding, ...]
    announcements: tuple[Announcement, ...] = ()

    def to_dict(self) -> dict:
        opts = self.options
        return {"targets": self.targets.text, "hosts": len(self.targets),
                "ports": list(opts.ports), "web_ports": list(opts.web_ports),
                "rate": opts.rate, "concurrency": opts.concurrency, "timeout": opts.timeout,
                "guess_ae": opts.guess_ae, "started_at": self.started_at.isoformat(),
                "duration_s": round(self.duration_s, 3), "attempts": self.attempts,
                "findings": [f.to_dict() for f in self.findings],
                "announcements": [a.to_dict() for a in self.announcements]}
