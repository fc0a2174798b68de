"""Target: everything needed to reach one DICOM node (address, AE titles, timeouts, TLS)."""

from __future__ import annotations

from dataclasses import field

from pacs_console.core.dicom.wire.params import DEFAULT_AE_TITLE, Timeouts
from pacs_console.core.records import record

TYPE_CHECKING = False  # TLS settings load with a node that has them: not for a plain echo
if TYPE_CHECKING:
    from pacs_console.core.dicom.wire.tls import TlsConfig


@record(frozen=True)
class Target:
    """One node as the DICOM operations see it; ``max_pdu`` is what the console advertises
    (0: the settings' default; never unlimited, see ``wire.pdu.effective_max_pdu``)."""

    host: str
    port: int
    called_ae: str
    calling_ae: str = DEFAULT_AE_TITLE
    timeouts: Timeouts = field(default_factory=Timeouts)
    tls: TlsConfig | None = None
    max_pdu: int = 0

    @property
    def label(self) -> str:
        return f"{self.called_ae}@{self.host}:{self.port}"

    def to_dict(self) -> dict:
        return {"host": self.host, "port": self.port, "called_ae": self.called_ae,
                "calling_ae": self.calling_ae, "timeouts": vars(self.timeouts).copy(),
                "tls": self.tls.to_dict() if self.tls else None, "max_pdu": self.max_pdu}

    @classmethod
    def from_node(cls, node, settings=None, **overrides) -> Target:
        """Build from a ``NodeRecord`` and the console's settings (calling AE, timeouts)."""
        tls = None
        if getattr(node, "tls", False):
            from pacs_console.core.dicom.wire.tls import TlsConfig

            tls = TlsConfig(ca_file=getattr(node, "tls_ca_file", "") or "",
                            cert_file=getattr(node, "tls_cert_file", "") or "",
                            key_file=getattr(node, "tls_key_file", "") or "",
                            server_name=getattr(node, "tls_server_name", "") or "")
        values = dict(host=node.host, port=int(node.port), called_ae=node.ae_title,
                      calling_ae=getattr(settings, "ae_title", DEFAULT_AE_TITLE),
                      timeouts=settings.timeouts() if settings is not None else Timeouts(),
                      tls=tls, max_pdu=getattr(settings, "max_pdu", 0))
        values.update(overrides)
        return cls(**values)
