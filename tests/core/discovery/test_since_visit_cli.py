"""`pacs-console inventory SITE` says what changed since the last visit (issue 21): the site's
last sweep against the one made by the end of the previous visit, beside the last two sweeps;
`scan --site` says it after a sweep. Real SCPs on OS-assigned loopback ports, real CLI."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.core.discovery.lab import pynetdicom_scp
from tests.peers.net import addr, free_port

pytestmark = pytest.mark.peers
SITE = "Salaga Polyclinic"
FAST = ["--rate", "2000", "--timeout", "1", "--web-ports", "none"]


def test_inventory_compares_with_the_last_visit_and_says_why_when_it_cannot(data_dir):
    host = addr(57)
    pacs_port, ris_port = free_port(host), free_port(host)
    ports = ["--ports", f"{pacs_port},{ris_port}"]
    pacs = pynetdicom_scp("SALPACS", host, pacs_port, check_called=False)
    ris = None
    try:
        scan = run_cli("scan", host, "--site", SITE, *ports, *FAST, data_dir=data_dir)
        assert scan.returncode == 0, scan.stderr
        none = run_cli("inventory", SITE, data_dir=data_dir)
        assert "No earlier visit is recorded at this site" in none.stdout

        started = run_cli("visit", "start", "--site", SITE, "--engineer", "Kojo", "--json",
                          data_dir=data_dir)
        assert started.returncode == 0, started.stderr
        kojo = json.loads(started.stdout)
        kojo = kojo.get("visit", kojo)["id"]
        assert run_cli("scan", host, "--site", SITE, *ports, *FAST,
                       data_dir=data_dir).returncode == 0  # during Kojo's visit
        assert run_cli("visit", "end", str(kojo), data_dir=data_dir).returncode == 0
        ris = pynetdicom_scp("SALRIS", host, ris_port, check_called=False)
        assert run_cli("scan", host, "--site", SITE, *ports, *FAST,
                       data_dir=data_dir).returncode == 0  # between visits: a new node
        assert run_cli("visit", "start", "--site", SITE, "--engineer", "Efua",
                       data_dir=data_dir).returncode == 0
        early = run_cli("inventory", SITE, data_dir=data_dir)
        # Efua has not swept yet: the sweep between the visits is what is known now
        assert f"{host}:{ris_port}" in early.stdout.split("Since the last visit")[1]
        pacs.shutdown()
        last = run_cli("scan", host, "--site", SITE, *ports, *FAST, data_dir=data_dir)
    finally:
        for server in (pacs, ris):
            if server is not None and server.socket.fileno() != -1:
                server.shutdown()
    assert last.returncode == 0, last.stderr
    assert "Since the last visit" in last.stdout and "(Kojo; its sweep of" in last.stdout

    text = run_cli("inventory", SITE, data_dir=data_dir)
    assert text.returncode == 0, text.stderr
    since_sweep, since_visit = text.stdout.split("Since the last visit")
    assert "Port closed: " in since_sweep and f"{host}:{ris_port}" not in since_sweep
    assert f"{host}:{ris_port}" in since_visit and "Port closed: " in since_visit

    doc = json.loads(run_cli("inventory", SITE, "--json", data_dir=data_dir).stdout)
    assert doc["diff"]["counts"] == {"port-closed": 1}
    visit = doc["since_last_visit"]
    assert visit["counts"] == {"new": 1, "port-closed": 1}
    assert visit["sweeps"]["visit"]["id"] == kojo and visit["sweeps"]["visit"]["engineer"] == "Kojo"
    assert visit["sweeps"]["before"]["id"] == 2  # the sweep during Kojo's visit, not the first
    assert doc["since_last_visit_why"] == ""
