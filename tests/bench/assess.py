"""Security assessment (issue 19): a site of 20 nodes on loopback with default politeness, in
under 30 s, and under 2x (discovery sweep + the per-node checks one after another on the
fastest node)."""

from __future__ import annotations

import time

from tests.bench.runner import Case

FIRST, NODES = 171, 20
_state: dict = {}


def _up() -> None:
    from pacs_console.core.dicom.servers.demo import DemoPacs
    from pacs_console.core.discovery.targets import DICOM_PORTS, WEB_PORTS
    from tests.core.assess.peers import ConfiguredOrthanc
    from tests.peers.dcmtk import DcmqrscpPeer, StorescpPeer
    from tests.peers.net import addr

    orthanc, dcmtk, web = DICOM_PORTS[2], DICOM_PORTS[1], WEB_PORTS[0]
    peers = []
    for n in range(NODES):  # a site's mix: archives, routers, modalities' storage, a demo PACS
        host, kind = addr(FIRST + n), n % 4
        if kind == 0:
            peer = ConfiguredOrthanc("ORTHANC", host, orthanc, web, {"DicomCheckCalledAet": False})
        elif kind == 1:
            peer = DcmqrscpPeer("DCMQRSCP", host, dcmtk)
        elif kind == 2:
            peer = StorescpPeer("STORESCP", host, dcmtk)
        else:
            peer = DemoPacs(f"PACS{n}", host, dcmtk, studies=[], worklist=[])
        peer.start()
        peers.append(peer)
    _state["peers"] = peers


def _down() -> None:
    for peer in reversed(_state.pop("peers", [])):
        peer.stop()


def _drain(generator):
    from tests.core.dicom_ops.helpers import drain

    return drain(generator)[1]


def _run() -> dict[str, float]:
    from pacs_console.core.assess.model import AssessOptions
    from pacs_console.core.assess.runner import assess_targets
    from pacs_console.core.discovery.models import SweepOptions
    from pacs_console.core.discovery.sweep import sweep
    from pacs_console.core.discovery.targets import parse_targets
    from tests.peers.net import span

    targets = parse_targets(span(FIRST, FIRST + NODES - 1))
    start = time.perf_counter()
    sweep_result = _drain(sweep(targets, SweepOptions()))
    sweep_s = time.perf_counter() - start
    start = time.perf_counter()
    assessment = _drain(assess_targets(targets, AssessOptions(), SweepOptions()))
    assess_s = time.perf_counter() - start
    if len(assessment.nodes) != NODES or len(sweep_result.findings) < NODES:
        raise RuntimeError(f"assessed {len(assessment.nodes)} nodes, swept "
                           f"{len(sweep_result.findings)} open ports")
    fastest = min(node.seconds for node in assessment.nodes)
    return {"assess_s": assess_s, "sweep_s": sweep_s, "fastest_node_s": fastest,
            "ratio_to_sweep_plus_node": assess_s / (sweep_s + fastest),
            "slowest_node_s": max(node.seconds for node in assessment.nodes),
            "findings": len(assessment.findings)}


def cases() -> list[Case]:
    return [
        Case("Security assessment of 20 loopback nodes, default politeness", _run, "assess_s",
             target=30.0, setup=_up, teardown=_down),
        Case("Security assessment vs discovery sweep + checks on the fastest node", _run,
             "ratio_to_sweep_plus_node", target=2.0, unit="x", setup=_up, teardown=_down),
    ]
