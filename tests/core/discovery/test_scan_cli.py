"""`pacs-console scan` and `inventory` as scripts call them, against pynetdicom SCPs on loopback."""

from __future__ import annotations

import json

import pytest

from pacs_console.core.sysinfo import interfaces, suggested_targets
from tests.conftest import run_cli
from tests.core.discovery.lab import DCMTK_PORT, pynetdicom_scp
from tests.peers.net import addr, span

pytestmark = pytest.mark.peers
FAST = ["--rate", "2000", "--timeout", "1", "--web-ports", "none"]


@pytest.fixture
def scps():
    servers = [pynetdicom_scp("PACS", addr(55), 104, check_called=True),
               pynetdicom_scp("OPENSCP", addr(56), DCMTK_PORT, check_called=False)]
    yield servers
    for server in servers:
        if server.socket.fileno() != -1:
            server.shutdown()


def test_scan_json_lists_open_ports_with_verdict_ae_and_fingerprint(scps, data_dir):
    proc = run_cli("scan", span(54, 57), "--guess-ae", "--site", "Korle Bu", "--json", *FAST,
                   data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    found = {(f["host"], f["port"]): f for f in doc["findings"]}
    assert set(found) == {(addr(55), 104), (addr(56), DCMTK_PORT)}
    pacs = found[(addr(55), 104)]
    assert (pacs["verdict"], pacs["ae_title"], pacs["insecure"]) == ("dicom-checks-ae", "PACS", False)
    assert pacs["product"] == "PACS Console" and pacs["implementation_class_uid"]
    assert found[(addr(56), DCMTK_PORT)]["insecure"] is True
    assert doc["hosts"] == 4 and doc["attempts"] == 24 and doc["sweep_id"] == 1
    assert doc["inventory_diff"] is None
    assert f"{addr(55)}:104" in proc.stderr  # progress went to stderr, stdout is pure JSON

    scps[1].shutdown()
    again = run_cli("scan", span(54, 57), "--site", "Korle Bu", *FAST, data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    # The address book is empty, but the site's last sweep knew the title: no guessing needed.
    assert "AE PACS (site-inventory" in again.stdout
    assert f"Gone: PACS Console@{addr(56)}:{DCMTK_PORT}" in again.stdout
    inventory = run_cli("inventory", "Korle Bu", "--json", data_dir=data_dir)
    assert inventory.returncode == 0, inventory.stderr
    diff = json.loads(inventory.stdout)["diff"]
    assert diff["counts"] == {"gone": 1} and diff["unchanged"] == 1


def test_scan_refuses_unsafe_targets_with_usage_errors(data_dir):
    for args in (["10.0.0.0/8"], ["8.8.8.8"], ["127.0.0.1", "--rate", "99999"],
                 ["127.0.0.1", "--ports", "0"]):
        proc = run_cli("scan", *args, data_dir=data_dir)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert "--allow-public" in run_cli("scan", "8.8.8.8", data_dir=data_dir).stderr
    unknown = run_cli("inventory", "Nowhere", data_dir=data_dir)
    assert unknown.returncode == 2 and "no site" in unknown.stderr


def test_interfaces_include_loopback_with_its_subnet():
    found = interfaces()
    loopback = next(i for i in found if i.is_loopback)
    assert any(a.network == "127.0.0.0/8" for a in loopback.addresses)
    assert loopback.is_up and "127.0.0.0/8" in loopback.label()
    # Wider than a /22: the suggestion narrows to the laptop's own /24.
    assert suggested_targets(loopback) == ["127.0.0.0/24"]
    assert found[-1].is_loopback or all(not i.is_loopback for i in found[-1:])
