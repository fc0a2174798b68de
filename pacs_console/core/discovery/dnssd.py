"""DNS-SD (mDNS) browse for DICOM services (PS3.15 Annex H.2): instances, addresses, TXT AET=."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping

from pacs_console.core.discovery.models import Announcement

SERVICE_TYPES = ("_dicom._tcp.local.", "_dicom-tls._tcp.local.", "_dicomweb._tcp.local.")


def decode_txt(properties: Mapping) -> dict[str, str]:
    """zeroconf's ``{bytes: bytes|None}`` -> ``{str: str}``; keys are case-insensitive (RFC 6763)."""
    txt: dict[str, str] = {}
    for key, value in properties.items():
        k = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        v = value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")
        txt.setdefault(k.strip(), str(v).strip())
    return txt


def instance_label(name: str, service_type: str) -> str:
    """``'ORTHANC._dicom._tcp.local.'`` -> ``'ORTHANC'`` (DNS escapes undone)."""
    label = name[: -len(service_type)] if name.endswith(service_type) else name
    return label.rstrip(".").replace("\\.", ".").replace("\\032", " ")


def announcement(service_type: str, name: str, addresses: Iterable[str], port: int,
                 properties: Mapping) -> list[Announcement]:
    """One Announcement per IPv4 address; without TXT AET= the instance name is the AE title."""
    txt = decode_txt(properties)
    aet = next((v for k, v in txt.items() if k.upper() == "AET"), "")
    instance = instance_label(name, service_type)
    if not aet and not service_type.startswith("_dicomweb") and len(instance) <= 16:
        aet = instance
    short_type = service_type.removesuffix(".local.")
    return [Announcement(short_type, instance, address, int(port), aet, txt)
            for address in addresses if address.count(".") == 3]


def browse(seconds: float = 2.0, interfaces: Iterable[str] = (),
           service_types: Iterable[str] = SERVICE_TYPES, *,
           stop: threading.Event | None = None) -> list[Announcement]:
    """Listen for ``seconds`` and resolve every instance seen (blocking; run it on a thread)."""
    from zeroconf import IPVersion, ServiceBrowser, Zeroconf

    chosen = list(interfaces)
    zc = Zeroconf(interfaces=chosen or None, ip_version=IPVersion.V4Only) if chosen else \
        Zeroconf(ip_version=IPVersion.V4Only)
    seen: dict[tuple[str, str], None] = {}

    def on_change(zeroconf, service_type, name, state_change) -> None:
        seen.setdefault((service_type, name), None)

    try:
        types = list(service_types)
        browser = ServiceBrowser(zc, types, handlers=[on_change])
        deadline = time.monotonic() + seconds
        stop = stop or threading.Event()
        while time.monotonic() < deadline and not stop.wait(0.05):
            pass
        browser.cancel()
        found: list[Announcement] = []
        for service_type, name in list(seen):
            if stop.is_set():
                break
            info = zc.get_service_info(service_type, name, timeout=1000)
            if info is None or not info.port:
                continue
            found.extend(announcement(service_type, name, info.parsed_addresses(IPVersion.V4Only),
                                      info.port, info.properties or {}))
        return found
    finally:
        zc.close()
