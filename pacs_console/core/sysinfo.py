"""This laptop's network interfaces (addresses, subnets, link state) and free disk, via psutil."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InterfaceAddress:
    address: str
    netmask: str
    network: str  # CIDR, e.g. 192.168.1.0/24

    @property
    def prefixlen(self) -> int:
        return ipaddress.ip_network(self.network).prefixlen


@dataclass(frozen=True)
class Interface:
    name: str
    is_up: bool
    speed_mbps: int
    mac: str
    addresses: tuple[InterfaceAddress, ...]

    @property
    def is_loopback(self) -> bool:
        return all(ipaddress.ip_address(a.address).is_loopback for a in self.addresses)

    def label(self) -> str:
        nets = ", ".join(a.network for a in self.addresses) or "no IPv4 address"
        state = "up" if self.is_up else "down"
        speed = f", {self.speed_mbps} Mb/s" if self.speed_mbps else ""
        return f"{self.name}: {nets} ({state}{speed})"


def interfaces() -> list[Interface]:
    """Every interface with its IPv4 addresses; loopback last, interfaces with no IPv4 kept."""
    import psutil

    stats = psutil.net_if_stats()
    found = []
    for name, addrs in psutil.net_if_addrs().items():
        ipv4, mac = [], ""
        for addr in addrs:
            if addr.family == socket.AF_INET and addr.netmask:
                net = ipaddress.ip_network(f"{addr.address}/{addr.netmask}", strict=False)
                ipv4.append(InterfaceAddress(addr.address, addr.netmask, str(net)))
            elif addr.family == getattr(psutil, "AF_LINK", object()):
                mac = addr.address
        stat = stats.get(name)
        found.append(Interface(name, bool(stat and stat.isup), int(stat.speed) if stat else 0,
                               mac, tuple(ipv4)))
    return sorted(found, key=lambda i: (i.is_loopback, not i.is_up, i.name))


def suggested_targets(interface: Interface, widest: int = 22) -> list[str]:
    """The subnets to sweep for an interface; wider than /``widest``, the /24 around the laptop.

    A /16 office LAN at the polite default rate takes over half an hour; the engineer can
    still type the whole range.
    """
    targets = []
    for addr in interface.addresses:
        net = ipaddress.ip_network(addr.network)
        if net.prefixlen < widest:
            net = ipaddress.ip_network(f"{addr.address}/24", strict=False)
        targets.append(str(net))
    return targets


def default_targets() -> list[str]:
    """Subnets of every interface that is up and not loopback."""
    return [t for i in interfaces() if i.is_up and not i.is_loopback
            for t in suggested_targets(i)]


def disk_free(path: Path) -> int:
    """Free bytes on the disk holding ``path`` (for the store and the database)."""
    import psutil

    return int(psutil.disk_usage(str(path)).free)
