"""Discovery journey: sweep loopback, see the DICOM node, add it, probe it, compare sweeps, cancel."""

from __future__ import annotations

from pynetdicom import AE
from pynetdicom.sop_class import Verification
from PySide6.QtWidgets import QCheckBox, QPlainTextEdit, QTableView

from tests.ui.acceptance.window import Console, press

HOST = "127.0.0.3"


def _field(console: Console, panel, label: str):
    return console.field_for_label(panel, label)


def _sweep(console: Console, panel, targets: str, port: int) -> None:
    console.type_into(_field(console, panel, "Targets"), targets)
    console.type_into(panel.ports, str(port))
    console.type_into(panel.web_ports, "")
    for box in panel.findChildren(QCheckBox):
        if "DNS-SD" in box.text() and box.isChecked():
            console.click(box)  # no multicast listening in a test
    console.click_button("Start sweep", panel)


def test_sweep_loopback_add_the_node_probe_it_and_compare_sweeps(console):
    ae = AE("LOOPSCP")
    ae.add_supported_context(Verification)
    server = ae.start_server((HOST, 0), block=False)
    port = server.server_address[1]
    try:
        panel = console.choose_nav("Discovery")
        site = panel.site
        console.type_into(site, "Korle Bu")
        _sweep(console, panel, f"{HOST}, 127.0.0.4", port)
        status = panel.status
        console.wait_text(status, "Done in", 60)
        assert "1 open ports, 1 DICOM nodes" in console.text(status)
        assert "saved to Korle Bu" in console.text(status)
        table = console.find(QTableView, parent=panel)
        rows = console.rows(table)
        assert len(rows) == 1 and any(HOST in cell for cell in rows[0])
        assert any(str(port) in cell for cell in rows[0])

        console.click_row(table, 0)
        details = console.find(QPlainTextEdit, parent=panel)
        console.wait_text(details, f"{HOST}:{port}", 5)
        console.click_button("Add to address book", panel)
        console.wait_text(status, "to the address book", 10)
        tests = console.panel("Tests")
        console.wait_for(lambda: any(HOST in row and str(port) in row
                                     for row in console.rows(tests.table)), 10,
                         "the found node in the address book",
                         observe=lambda: console.rows(tests.table))

        console.click_button("Probe capabilities", panel)
        console.wait_text(details, "SOP classes accepted", 30)
        console.wait_for(lambda: console.button("Probe capabilities", panel).isEnabled(), 10,
                         "probe done")

        console.click_button("Changes since last sweep", panel)
        console.wait_text(details, "fewer than two sweeps", 10)
        # A second sweep of the same site: now there is something to compare.
        _sweep(console, panel, HOST, port)
        console.wait_text(status, "Done in", 60)
        console.click_button("Changes since last sweep", panel)
        console.wait_text(details, "Since the sweep of", 10)
    finally:
        server.shutdown()


def test_cancel_a_sweep(console):
    panel = console.choose_nav("Discovery")
    console.type_into(panel.site, "")
    _sweep(console, panel, "127.0.1.0/24, 127.0.2.0/24", 1)
    cancel = console.button("Cancel", panel)
    console.click(cancel)
    console.wait_text(panel.status, "Cancelled:", 30)
    assert "the sweep was not saved" in console.text(panel.status)
    console.wait_for(lambda: console.button("Start sweep", panel).isEnabled(), 5, "idle")
    assert not cancel.isEnabled()


def test_targets_from_the_interface_and_public_addresses_need_a_yes(console):
    """Choosing the loopback interface suggests its /24; public addresses are swept only after
    the warning is answered Yes (No sweeps nothing), and a /8 is refused as too large."""
    panel = console.choose_nav("Discovery")
    interface = _field(console, panel, "Interface")
    loopback = next(interface.itemText(i) for i in range(interface.count())
                    if "127.0.0.0/8" in interface.itemText(i))
    console.choose_combo(interface, loopback)
    targets = _field(console, panel, "Targets")
    assert console.text(targets) == "127.0.0.0/24"

    table = console.find(QTableView, parent=panel)
    console.type_into(targets, "8.8.8.8")
    with console.dialogs(press("No")) as seen:
        console.click_button("Start sweep", panel)
    assert seen[0].title == "Public addresses" and "Sweep anyway?" in seen[0].text
    console.wait_text(panel.status, "outside private", 5)
    assert console.rows(table) == [] and console.button("Start sweep", panel).isEnabled()

    console.type_into(targets, "10.0.0.0/8")
    console.click_button("Start sweep", panel)
    console.wait_text(panel.status, "/16", 5)
    assert console.rows(table) == [] and not console.button("Cancel", panel).isEnabled()
