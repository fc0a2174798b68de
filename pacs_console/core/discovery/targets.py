"""Parse sweep targets (CIDR, dash ranges, host lists) and ports, refusing unsafe or huge sweeps."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from pacs_console.core.errors import ConsoleError, Diagnosis

DICOM_PORTS: tuple[int, ...] = (104, 11112, 4242, 2761, 2762, 2345)
WEB_PORTS: tuple[int, ...] = (8042, 8080, 80, 443)
# A /16: beyond this a sweep stops being a site survey and starts looking like an attack.
MAX_ADDRESSES = 65536
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Only these are a site's own network without asking: RFC 1918 and loopback.
_OWN = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                "127.0.0.0/8"))
# Never swept: "this network", multicast, reserved and the limited broadcast.
_NEVER = tuple(ipaddress.ip_network(n) for n in ("0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"))


@dataclass(frozen=True)
class TargetSet:
    """The addresses of one sweep, in order, with the text they came from."""

    text: str
    addresses: tuple[str, ...]
    public: tuple[str, ...] = ()  # the parts outside RFC 1918 and loopback (consent given)

    def __len__(self) -> int:
        return len(self.addresses)

    @property
    def loopback_only(self) -> bool:
        return all(ipaddress.ip_address(a).is_loopback for a in self.addresses)


def _problem(code: str, what: str, action: str, **evidence: str) -> ConsoleError:
    return ConsoleError(Diagnosis(code, what, actions=(action,), evidence=evidence))


def is_internal(address: ipaddress.IPv4Address) -> bool:
    """Private, loopback, link-local or carrier-grade NAT: never the public internet."""
    return (address.is_private or address.is_loopback or address.is_link_local
            or address in _CGNAT)


def _network(part: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(part, strict=False)
    except ValueError:
        raise _problem("targets-invalid", f"{part!r} is not a valid network",
                       "write a network as 192.168.1.0/24", part=part) from None
    if net.version != 4:
        raise _problem("targets-ipv6", f"{part}: only IPv4 sweeps are supported",
                       "give an IPv4 network such as 192.168.1.0/24", part=part)
    if net.prefixlen < 16:
        raise _problem("targets-too-large",
                       f"{part} holds {net.num_addresses:,} addresses; sweeps stop at a /16",
                       "sweep the /24 or /16 where the nodes are", part=part)
    return net


def _dash_range(part: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    first, _, last = part.partition("-")
    try:
        start = ipaddress.IPv4Address(first.strip())
        if "." in last:
            end = ipaddress.IPv4Address(last.strip())
        else:  # 10.0.0.5-40: the last octet only
            end = ipaddress.IPv4Address(".".join(str(start).split(".")[:3] + [last.strip()]))
    except ValueError:
        raise _problem("targets-invalid", f"{part!r} is not a valid address range",
                       "write a range as 10.0.0.5-40 or 10.0.0.5-10.0.1.20", part=part) from None
    if end < start:
        raise _problem("targets-invalid", f"{part}: the range ends before it starts",
                       "put the lower address first", part=part)
    return start, end


def _host(part: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(part)
    except ValueError:
        pass
    if re.fullmatch(r"[\d.]+", part) or not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", part):
        raise _problem("targets-invalid", f"{part!r} is neither an address, a range nor a host name",
                       "use 192.168.1.0/24, 192.168.1.10-50, 192.168.1.7 or a host name",
                       part=part)
    try:
        return ipaddress.IPv4Address(socket.gethostbyname(part))
    except (OSError, UnicodeError):
        raise _problem("name-resolution", f"Could not resolve the host name {part!r}",
                       "use the node's IP address", part=part) from None


def parse_targets(text: str, *, allow_public: bool = False) -> TargetSet:
    """Addresses from ``text``: comma/space separated CIDRs, dash ranges, addresses, host names.

    Raises ConsoleError: invalid text, more than a /16 in total, or public addresses without
    ``allow_public`` (a sweep of someone else's network is never an accident).
    """
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts:
        raise _problem("targets-empty", "No targets given",
                       "give a network (192.168.1.0/24), a range or addresses")
    seen: dict[str, None] = {}
    public: list[str] = []
    total = 0
    for part in parts:
        if "/" in part:
            net = _network(part)
            total += net.num_addresses
            _check_total(total, text)
            # Network and broadcast addresses answer nothing useful and upset some switches.
            items: Iterable = net.hosts() if net.prefixlen <= 30 else net
            first, last = net.network_address, net.broadcast_address
        elif "-" in part and not re.search(r"[A-Za-z]", part):
            first, last = _dash_range(part)
            total += int(last) - int(first) + 1
            _check_total(total, text)
            items = (ipaddress.IPv4Address(i) for i in range(int(first), int(last) + 1))
        else:
            first = last = _host(part)
            total += 1
            _check_total(total, text)
            items = (first,)
        special = [str(n) for n in _NEVER if int(first) <= int(n.broadcast_address)
                   and int(last) >= int(n.network_address)]
        if special:
            raise _problem("targets-special",
                           f"{part} lies in {', '.join(special)}: 'this network', multicast, "
                           "reserved or broadcast addresses are never swept",
                           "give the hospital's own network, e.g. 192.168.1.0/24", part=part)
        if not any(first in net and last in net for net in _OWN):
            public.append(part)  # public, link-local or carrier-grade NAT: asked first
        for address in items:
            seen.setdefault(str(address), None)
    if public and not allow_public:
        raise _problem("targets-public",
                       f"{', '.join(public)} is outside private (RFC 1918) and loopback "
                       "ranges",
                       "check the addresses; confirm explicitly (--allow-public) only for a "
                       "network you are responsible for", public=", ".join(public))
    return TargetSet(text.strip(), tuple(seen), tuple(public))


def _check_total(total: int, text: str) -> None:
    if total > MAX_ADDRESSES:
        raise _problem("targets-too-large",
                       f"The targets hold {total:,}+ addresses; sweeps stop at {MAX_ADDRESSES:,} (a /16)",
                       "sweep the subnets where the nodes are", targets=text[:200])


def parse_ports(text: str | Iterable[int]) -> tuple[int, ...]:
    """``"104,11112,4242"`` or ``"100-110"`` (or integers) -> sorted unique ports."""
    if not isinstance(text, str):
        values = [int(p) for p in text]
    else:
        values = []
        for part in (p for p in re.split(r"[\s,;]+", text.strip()) if p):
            first, _, last = part.partition("-")
            try:
                low, high = int(first), int(last or first)
            except ValueError:
                raise _problem("ports-invalid", f"{part!r} is not a port or port range",
                               "write ports as 104,11112 or 11110-11120", part=part) from None
            if high - low > 1024:
                raise _problem("ports-invalid", f"{part}: more than 1,024 ports in one range",
                               "list the ports the nodes use", part=part)
            values.extend(range(low, high + 1))
    for port in values:
        if not 1 <= port <= 65535:
            raise _problem("ports-invalid", f"Port {port} is outside 1-65535",
                           "use ports between 1 and 65535", port=str(port))
    return tuple(sorted(set(values)))
