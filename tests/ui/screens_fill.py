"""The screenshot run itself: the real main window, filled with realistic state, one PNG per view.

Runs in the child process ``tests.ui.screens`` starts (the offscreen screen is set by then).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ENGINEER = "Yaw Ɔsɛi-Bɔnsu"


class Shooter:
    def __init__(self, data: Path, out: Path, scp_port: int = 0) -> None:
        """``scp_port`` 0: the Storage SCP on any free port (it starts before the records)."""
        from PySide6.QtWidgets import QApplication

        from pacs_console.core.context import Context
        from pacs_console.core.profile import Profile
        from pacs_console.core.settings import updated
        from pacs_console.paths import app_paths

        self.app = QApplication.instance() or QApplication(["pacs-console-screens"])
        self.app.setStyle("Fusion")
        self.out, self.data = out, data
        self.ctx = Context.open(app_paths(data / "console").ensure())
        self.ctx.save_settings(updated(self.ctx.settings, scp_port=scp_port,
                                       engineer_id="FE-7", profile=Profile(
                                           name=ENGINEER, organisation="Ɔdɔ Medical Systems")))
        self.window = None
        self.shots: list[str] = []

    # -- helpers -----------------------------------------------------------------------------
    def wait(self, predicate, timeout: float = 60.0, what: str = "") -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.app.processEvents()
            if predicate():
                return True
            time.sleep(0.02)
        print(f"screens: gave up waiting for {what or predicate}")
        return False

    def settle(self, seconds: float = 0.4) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.02)

    def shoot(self, name: str, widget=None) -> None:
        self.settle()
        widget = widget or self.window
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        self.shots.append(path.name)

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> None:
        from pacs_console.ui.main_window import MainWindow

        demo = self.ctx.start_demo(port=0)
        # pynetdicom's default of 10 associations made the demo refuse the console's own
        # back-to-back work (issue 14, item 4, fixed on its own); the screens show the panels
        # at work, so the demo gets room here whatever its default is.
        if getattr(demo, "_ae", None) is not None:
            demo._ae.maximum_associations = max(demo._ae.maximum_associations, 64)
        self.ctx.storage_scp().start()  # its real port goes into the address book
        self._records()
        self.window = MainWindow(self.ctx)
        self.window.show()
        self.window.demo_started(self.ctx.demo)
        self.window.status.update_scp()
        tests = self.window.panels["Tests"]
        self.wait(lambda: tests.table.model().rowCount() >= 3, what="address book")
        tests.select_node("Demo PACS")
        self._tests(tests)
        self._discovery()
        self._viewer()
        self._incidents()
        self._reports()
        self._sync()
        self._knowledge()
        self._dialogs()
        print(f"screens: {len(self.shots)} PNGs in {self.out}: {', '.join(self.shots)}")

    def _records(self) -> None:
        """Nodes, a site with a visit and incidents: what a field engineer's folder holds."""
        from pacs_console.core.db.nodes import save_node
        from pacs_console.core.incidents import service, sites
        from tests.core.reports.story import visit_incidents

        db = self.ctx.db
        site = sites.save_site(db, "Tamale Teaching Hospital", region="Northern",
                               contacts="Abɛna Sɛrwaa, +233 20 000 0000", actor=ENGINEER)
        save_node(db, "TTH main PACS", "TTHPACS", "127.0.0.20", 104, tags="pacs, archive",
                  site_id=site.id)
        save_node(db, "CT scanner room 2", "TTHCT02", "127.0.0.21", 11120, tags="modality, ct",
                  site_id=site.id)
        save_node(db, "Reading workstation 3", "TTHWS03", "127.0.0.22", 11120, tags="viewer")
        # Site health needs answering nodes too: the demo PACS as the site's archive and the
        # console's own Storage SCP as a workstation (both on loopback, both real).
        demo = self.ctx.demo
        save_node(db, "Demo PACS", demo.ae_title, demo.host, demo.port, tags="pacs,demo",
                  is_demo=True, site_id=site.id)
        save_node(db, "Console Storage SCP", self.ctx.settings.ae_title, "127.0.0.1",
                  self.ctx.scp_port(), tags="workstation", site_id=site.id)
        arrived = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        visit = sites.start_visit(db, site.name, engineer=ENGINEER, purpose="Quarterly visit",
                                  arrived_at=arrived)
        visit_incidents(db, site.name, visit.id, arrived, reporter="Radiology desk",
                        actor=ENGINEER)
        service.create_incident(db, title="Reading room monitor shows stale priors",
                                severity="medium", site=site.name, category="other",
                                actor=ENGINEER)
        service.create_incident(db, title="Slow retrieves from the archive after 16:00",
                                severity="low", site=site.name, actor=ENGINEER)
        self.visit_id = visit.id
        self._articles()

    def _articles(self) -> None:
        """Two knowledge articles as an engineer writes them after a fix."""
        from pacs_console.core.kb.model import Article
        from pacs_console.core.kb.store import create_article

        create_article(self.ctx.db, Article(
            title="CT cannot send: archive AE title changed by a vendor update",
            symptoms="The CT's send queue grows; the archive log shows 'called AE title not "
                     "recognised'.",
            cause="A vendor update reset the archive's AE title to its factory default.",
            fix="Set the CT's destination AE title to the archive's new one (or restore the "
                "archive's), then re-send the queue from the CT.",
            codes=("associate-rejected-called-ae",), vendor="Orthanc", author=ENGINEER,
            site="Tamale Teaching Hospital"))
        create_article(self.ctx.db, Article(
            title="Archive listener down after a power cut",
            symptoms="C-ECHO says 'connection refused' from every workstation.",
            cause="The DICOM service is not set to start on boot; the UPS ran flat overnight.",
            fix="Start the DICOM service, set it to start automatically, and check the UPS "
                "battery date.",
            codes=("connection-refused",), author=ENGINEER, site="Tamale Teaching Hospital"))

    def _run_tab(self, tests, title: str, button, busy) -> None:
        tests.tabs.setCurrentWidget(tests.operation_tabs.get(title) or tests.verify)
        self.settle(0.2)
        button.click()
        self.wait(lambda: not busy(), 120, f"{title} to finish")
        self.settle(1.0)  # let the demo PACS close the associations before the next test

    def _tests(self, tests) -> None:
        verify = tests.verify
        verify.count.setValue(12)
        verify.interval.setValue(0.3)
        self._run_tab(tests, "Verify", verify.series_button, lambda: verify.running)
        self.shoot("tests-verify")
        tests.book_toggle.click()  # the address book collapsed to its compact strip
        self.shoot("tests-address-book-collapsed")
        tests.book_toggle.click()
        query = tests.operation_tabs["Query"]
        self._run_tab(tests, "Query", query.search_button, lambda: query.worker is not None)
        if query.results.rowCount():
            query.view.selectRow(0)
        self.shoot("tests-query")
        retrieve = tests.operation_tabs["Retrieve"]
        query.retrieve_button.click()
        self.settle(0.2)
        retrieve.method.setCurrentIndex(1)  # C-GET needs no move destination
        self._run_tab(tests, "Retrieve", retrieve.start_button, lambda: retrieve.worker is not None)
        self.shoot("tests-retrieve")
        store = tests.operation_tabs["Store"]
        store.generate.setValue(40)
        self._run_tab(tests, "Store", store.send_button, lambda: store.worker is not None)
        self.shoot("tests-store")
        probe = tests.operation_tabs["Capabilities"]
        self._run_tab(tests, "Capabilities", probe.start_button, lambda: probe.worker is not None)
        self.shoot("tests-capabilities")
        titles = [tests.tabs.tabText(i) for i in range(tests.tabs.count())]
        for title in titles:
            if title not in ("Verify", "Query", "Retrieve", "Store", "Capabilities"):
                tests.tabs.setCurrentIndex(titles.index(title))
                self.settle(0.5)
                if title == "Site health":
                    self._health(tests.tabs.currentWidget())
                self.shoot(f"tests-{title.lower().replace(' ', '-')}")
        tests.tabs.setCurrentWidget(verify)

    def _health(self, tab) -> None:
        """A real health plan of the site: the demo PACS and the Storage SCP answer, the
        addresses with nothing listening fail; the first failed cell opened."""
        self.wait(lambda: tab.site.findText("Tamale Teaching Hospital") >= 0, 30, "health sites")
        tab.site.setCurrentIndex(tab.site.findText("Tamale Teaching Hospital"))
        tab.run_button.click()
        self.wait(lambda: tab.worker is None and tab.grid.rowCount() > 0, 180, "health check")
        failed = [(r, c) for r in range(tab.grid.rowCount()) for c in range(tab.grid.columnCount())
                  if tab.grid.item(r, c) is not None and tab.grid.item(r, c).text() == "FAIL"]
        if failed:
            tab.grid.setCurrentCell(*failed[0])

    def _discovery(self) -> None:
        panel = self.window.panels["Discovery"]
        self.window.show_panel("Discovery")
        self.settle()
        self.shoot("discovery-empty")
        panel.targets.setText("127.0.0.1")
        panel.ports.setText(f"{self.ctx.demo.port},{self.ctx.scp_port()}")
        panel.web_ports.setText("")
        panel.dns_sd.setChecked(False)
        panel.site.setEditText("Tamale Teaching Hospital")
        panel.start_button.click()
        self.wait(lambda: panel.worker is None, 120, "sweep")
        if panel.model.rowCount():
            panel.table.selectRow(0)
        self.shoot("discovery")

    def _viewer(self) -> None:
        from pacs_console.core.dicom.synth.studies import generate_study, write_study

        panel = self.window.panels["Viewer"]
        self.window.show_panel("Viewer")
        self.shoot("viewer-empty")
        folder = self.data / "cd"
        write_study(generate_study("CT", images=24, series=2, size=256, seed=5), folder)
        panel.open_source(str(folder))
        self.wait(lambda: panel.busy == 0 and panel.tree.topLevelItemCount() > 0, 60, "viewer")
        self.settle(1.5)
        self.wait(lambda: panel.busy == 0, 30, "thumbnails")
        self.shoot("viewer")

    def _incidents(self) -> None:
        panel = self.window.panels["Incidents"]
        self.window.show_panel("Incidents")
        self.wait(lambda: panel.model.rowCount() >= 3, 30, "incidents")
        panel.show_row(0)
        self.shoot("incidents")
        for index in range(1, panel.tabs.count()):
            panel.tabs.setCurrentIndex(index)
            self.settle(1.0)
            self.shoot(f"incidents-{panel.tabs.tabText(index).lower()}")
        panel.tabs.setCurrentIndex(0)

    def _reports(self) -> None:
        panel = self.window.panels["Reports"]
        self.window.show_panel("Reports")
        self.wait(lambda: panel.visit.count() >= 2, 30, "visits in reports")
        self.shoot("reports-empty")
        panel.summary.setPlainText("CT sends again; worklist pending the RIS vendor.")
        panel.preview_button.click()
        self.wait(lambda: panel.pages.count() > 3, 120, "report preview")
        self.shoot("reports")

    def _sync(self) -> None:
        panel = self.window.panels["Sync"]
        self.window.show_panel("Sync")
        panel.refresh()
        self.settle(1.5)
        self.shoot("sync")

    def _knowledge(self) -> None:
        panel = self.window.panels["Knowledge"]
        self.window.show_panel("Knowledge")
        self.wait(lambda: panel.results.count() >= 2, 30, "knowledge articles")
        panel.results.setCurrentRow(0)
        self.wait(lambda: bool(panel.article_view.toPlainText()), 10, "an article shown")
        self.shoot("knowledge")

    def _dialogs(self) -> None:
        from pacs_console.ui.settings_dialog import SettingsDialog
        from pacs_console.ui.widgets.node_dialog import NodeDialog

        tests = self.window.panels["Tests"]
        self.window.show_panel("Tests")
        dialogs = [("dialog-settings", SettingsDialog(self.ctx.settings, self.window)),
                   ("dialog-node", NodeDialog(tests.selected_node(), set(), self.window))]
        incidents = self.window.panels["Incidents"]
        dialogs += [("dialog-new-incident", incidents.new_incident(exec_dialog=False)),
                    ("dialog-sites", incidents.edit_sites(exec_dialog=False)),
                    ("dialog-maintenance", incidents.edit_maintenance(exec_dialog=False))]
        for name, dialog in dialogs:
            dialog.show()
            self.settle(0.5)
            self.shoot(name, dialog)
            dialog.reject()

    def close(self) -> None:
        from pacs_console.ui import workers

        if self.window is not None:
            self.window.close()
        workers.cancel_all()
        self.ctx.close()
