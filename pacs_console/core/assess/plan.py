"""Which services of which hosts to assess: from a discovery sweep, or a site's address book
and its last sweep."""

from __future__ import annotations

from pacs_console.core.assess.model import Service
from pacs_console.core.discovery import models as dm

# Only for so few addresses are hosts without any open swept port still tried for HL7.
HL7_ALL_HOSTS_UP_TO = 16


def from_sweep(result: dm.SweepResult, *, titles: dict[tuple[str, int], str] | None = None
               ) -> dict[str, list[Service]]:
    """Services per host from the sweep's findings (``titles``: AE titles known per port)."""
    titles = titles or {}
    hosts: dict[str, list[Service]] = {}
    web_ports = set(result.options.web_ports)
    for f in result.findings:
        title = titles.get((f.host, f.port)) or f.ae_title
        if f.service == "http" or f.port in web_ports:
            if f.verdict in (dm.HTTP, dm.DICOMWEB):
                kind = "https" if f.port == 443 or f.dicomweb_url.startswith("https") else "http"
                hosts.setdefault(f.host, []).append(Service(
                    f.host, f.port, kind, product=f.product, version=f.version,
                    dicomweb_url=f.dicomweb_url))
            continue
        if f.is_dicom:
            kind = "dicom"
        elif f.verdict in (dm.NOT_DICOM, dm.SILENT):
            kind = "probe"  # maybe DICOM over TLS: a plain A-ASSOCIATE-RQ gets nothing there
        else:
            continue
        hosts.setdefault(f.host, []).append(Service(
            f.host, f.port, kind, ae_title=title, any_ae=f.insecure,
            implementation_class_uid=f.implementation_class_uid,
            implementation_version_name=f.implementation_version_name))
    if len(result.targets) <= HL7_ALL_HOSTS_UP_TO:
        for address in result.targets.addresses:
            hosts.setdefault(address, [])
    return hosts


def from_site(nodes, findings) -> dict[str, list[Service]]:
    """The site's address-book nodes (their AE titles and TLS) and its last sweep's findings."""
    hosts: dict[str, list[Service]] = {}
    seen: set[tuple[str, int]] = set()
    for node in nodes:
        kind = "dicom-tls" if node.tls else "dicom"
        hosts.setdefault(node.host, []).append(Service(node.host, int(node.port), kind,
                                                       ae_title=node.ae_title))
        seen.add((node.host, int(node.port)))
    for f in findings:
        if (f.host, f.port) in seen:
            continue
        seen.add((f.host, f.port))
        if f.verdict in (dm.HTTP, dm.DICOMWEB):
            kind = "https" if f.port == 443 else "http"
            hosts.setdefault(f.host, []).append(Service(f.host, f.port, kind,
                                                        dicomweb_url=f.dicomweb_url))
        elif f.is_dicom:
            hosts.setdefault(f.host, []).append(Service(f.host, f.port, "dicom",
                                                        ae_title=f.ae_title, any_ae=f.insecure))
    return hosts
