"""Site health with the mouse: pick the site, run its plan, read the grid, open a cell's evidence.
(Moved from tests/ui/test_health_tab.py onto the suite's real window with the demo PACS.)"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QPlainTextEdit, QTableWidget

from pacs_console.core.db.nodes import save_node
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.incidents.sites import save_site
from tests.core.health.test_health_cli import CT, ELE, ILE, J2K, MR, _vendor_scp
from tests.ui.acceptance.window import free_port

VERIFICATION = "1.2.840.10008.1.1"


def _site_health(console, site: str):
    """Tests > Site health, the site chosen in its list: the tab."""
    tests = console.choose_nav("Tests")
    console.choose_tab(tests.tabs, "Site health")
    tab = tests.tabs.currentWidget()
    sites = console.find(QComboBox, "health-site", tab)
    console.wait_for(lambda: sites.findText(site) >= 0, 10, "the site")
    if console.text(sites) != site:
        console.choose_combo(sites, site)
    return tab


def test_health_grid_from_clicks(console):
    ae = make_ae("WARD_WS", supported=[VERIFICATION])
    ae.require_called_aet = False
    ae.maximum_associations = 32  # the C-ECHO check sends several at once
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        site = save_site(console.ctx.db, "Ho Teaching Hospital")
        save_node(console.ctx.db, "Ward workstation", "WARD_WS", "127.0.0.1",
                  server.server_address[1], tags="workstation", site_id=site.id)
        save_node(console.ctx.db, "Old CR", "OLDCR", "127.0.0.1", free_port(), tags="modality",
                  site_id=site.id)  # nothing listens there
        tab = _site_health(console, "Ho Teaching Hospital")
        console.click_button("Run health check", tab)
        grid = console.find(QTableWidget, "health-grid", tab)
        status = console.find(QLabel, "health-status", tab)
        console.wait_for(lambda: grid.rowCount() == 2 and console.button(
            "Run health check", tab).isEnabled(), 90, "the grid", observe=lambda: console.text(status))
        nodes = [grid.verticalHeaderItem(r).text() for r in range(2)]
        assert nodes == ["Old CR", "Ward workstation"]  # address-book order
        columns = [grid.horizontalHeaderItem(c).text() for c in range(grid.columnCount())]
        assert columns == ["Route", "C-ECHO", "Association"]
        down, up = console.rows(grid)
        assert down == ["FAIL"] * 3
        # The echo's p95 over its threshold is a WARN (timing, so load can cause it): never FAIL.
        assert up[0] == up[2] == "PASS" and up[1] in ("PASS", "WARN"), up
        if up[1] == "WARN":
            assert " ms" in grid.item(1, 1).toolTip(), grid.item(1, 1).toolTip()
        shown = console.text(status)
        assert "Ho Teaching Hospital: some checks failed or warned (WARN)" in shown, shown
        assert "3 fail" in shown
        console.click(grid.viewport(), grid.visualItemRect(grid.item(0, 1)).center())
        details = console.find(QPlainTextEdit, "health-details", tab)
        console.wait_text(details, "Old CR — C-ECHO: FAIL", 5)
        assert "try:" in console.text(details)
    finally:
        server.shutdown()


def test_plan_file_baseline_compare_worse_marks_and_repeat_from_clicks(console, tmp_path):
    """A person types a plan file, records a baseline, sees what got worse after the vendor's
    update marked in the grid and in the post-upgrade comparison, then lets the plan repeat."""
    import json

    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit

    port = free_port()
    server = _vendor_scp(port, "ROUTER_4.1", {CT: [ELE, ILE, J2K], MR: [ELE, ILE]})
    site = save_site(console.ctx.db, "Tamale Teaching Hospital")
    save_node(console.ctx.db, "Vendor router", "MODALITY1", "127.0.0.1", port, tags="router",
              site_id=site.id)
    plan = tmp_path / "tamale.json"  # fewer echoes, a generous p95 threshold on a loaded box
    plan.write_text(json.dumps({"nodes": {"Vendor router": {"echo_count": 2}},
                                "thresholds": {"echo_p95_warn_ms": 5000}}), encoding="utf-8")
    tab = _site_health(console, "Tamale Teaching Hospital")
    grid = console.find(QTableWidget, "health-grid", tab)
    status = console.find(QLabel, "health-status", tab)
    run = console.button("Run health check", tab)

    def finished(what: str, timeout: float = 120) -> str:
        console.wait_for(lambda: what in console.text(status) and run.isEnabled(), timeout,
                         what, observe=lambda: console.text(status))
        return console.text(status)

    def cell(column: str) -> str:
        columns = [grid.horizontalHeaderItem(c).text() for c in range(grid.columnCount())]
        assert column in columns, columns
        return grid.item(0, columns.index(column)).text()

    # A plan file that is not there: one line saying so, no grid.
    console.type_into(console.find(QLineEdit, "health-plan", tab), str(tmp_path / "nope.json"))
    console.click(run)
    finished("No plan file")
    console.type_into(console.find(QLineEdit, "health-plan", tab), str(plan))
    try:
        console.click(run)
        finished("every check passed")
        assert cell("Association") == "PASS" and cell("C-ECHO") == "PASS"
        baseline = console.find(QComboBox, "health-baseline", tab)
        console.type_into(baseline, "before-4.2")
        console.click_button("Record baseline", tab)
        finished("Baseline 'before-4.2' of Tamale Teaching Hospital recorded: 1 of 1")
    finally:
        server.shutdown()
    server = _vendor_scp(port, "ROUTER_4.2", {CT: [ELE, ILE]})  # the vendor's update
    try:
        console.click(run)
        shown = finished("Worse than last time")
        assert cell("Association") == "WARN ▼", cell("Association")
        assert "no longer accepted: MR Image Storage" in shown, shown
        console.click(grid.viewport(), grid.visualItemRect(grid.item(0, 2)).center())
        details = console.find(QPlainTextEdit, "health-details", tab)
        console.wait_text(details, "Worse: ", 5)
        console.click_button("Compare with baseline", tab)
        shown = finished("Post-upgrade validation of Tamale Teaching Hospital against "
                         "baseline 'before-4.2'")
        assert "regression(s)" in shown, shown
        assert cell("Capabilities") == "FAIL ▼" and cell("Association") == "WARN ▼"
        # Repeat mode: every 0.1 min (6 s); the next run comes by itself, unticking stops it.
        console.type_into(console.find(QDoubleSpinBox, "health-repeat-minutes", tab), "0.1")
        repeat = console.find(QCheckBox, "health-repeat", tab)
        console.click(repeat)
        console.click(run)
        first = finished("Next run at")
        console.wait_for(lambda: "Next run at" in console.text(status)
                         and console.text(status) != first and run.isEnabled(), 60,
                         "the repeated run", observe=lambda: console.text(status))
        console.click(repeat)
        console.wait_text(status, "Repeat stopped.", 5)
    finally:
        server.shutdown()
