"""Main window: navigation list over stacked panels, status bar, menus, remembered geometry."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QStyle,
    QWidget,
)

from pacs_console import __version__
from pacs_console.core.context import Context
from pacs_console.paths import resource_path
from pacs_console.ui import workers
from pacs_console.ui.bridge import QueueBridge
from pacs_console.ui.db_watch import DataWatch, follow
from pacs_console.ui.panels.coming import ComingPanel
from pacs_console.ui.panels.discovery import DiscoveryPanel
from pacs_console.ui.panels.incidents import IncidentsPanel
from pacs_console.ui.panels.knowledge import KnowledgePanel
from pacs_console.ui.panels.reports import ReportsPanel
from pacs_console.ui.panels.sync import SyncPanel
from pacs_console.ui.panels.tests import TestsPanel
from pacs_console.ui.panels.viewer import ViewerPanel
from pacs_console.ui.settings_dialog import SettingsDialog
from pacs_console.ui.status_bar import ConsoleStatusBar

PANELS = ("Discovery", "Tests", "Viewer", "Incidents", "Reports", "Sync", "Knowledge")
_NAV_ICONS = {"Discovery": QStyle.StandardPixmap.SP_DriveNetIcon,
              "Tests": QStyle.StandardPixmap.SP_DialogApplyButton,
              "Viewer": QStyle.StandardPixmap.SP_FileDialogContentsView,
              "Incidents": QStyle.StandardPixmap.SP_MessageBoxWarning,
              "Reports": QStyle.StandardPixmap.SP_FileDialogDetailedView,
              "Sync": QStyle.StandardPixmap.SP_BrowserReload,
              "Knowledge": QStyle.StandardPixmap.SP_FileDialogInfoView}


def _certificate_text(cert) -> str:
    return (f"{cert.name}, {cert.organisation}\nSHA-256 {cert.fingerprint_sha256}\n"
            f"valid until {cert.not_after:%Y-%m-%d}" if cert else "")


class MainWindow(QMainWindow):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("PACS Console")
        self.setWindowIcon(QIcon(str(resource_path("icons", "pacs-console.png"))))
        self.state = QSettings(str(ctx.paths.qt_state_file), QSettings.Format.IniFormat)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(170)
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setSpacing(3)
        self.stack = QStackedWidget()
        self.panels: dict[str, QWidget] = {}
        factories = {"Discovery": DiscoveryPanel, "Tests": TestsPanel, "Viewer": ViewerPanel, "Incidents": IncidentsPanel, "Reports": ReportsPanel, "Sync": SyncPanel, "Knowledge": KnowledgePanel}  # panels not listed here are still to come
        for name in PANELS:
            factory = factories.get(name)
            panel = factory(ctx) if factory else ComingPanel(name)
            self.panels[name] = panel
            self.stack.addWidget(panel)
            QListWidgetItem(self.style().standardIcon(_NAV_ICONS[name]), name, self.nav)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(6, 6, 6, 0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.status = ConsoleStatusBar(ctx)
        self.setStatusBar(self.status)
        self.bridge = QueueBridge(ctx.arrivals, parent=self)
        self.bridge.received.connect(self.status.on_arrivals)
        self.bridge.received.connect(self.panels["Viewer"].on_arrivals)
        self.panels["Sync"].status_changed.connect(
            lambda text, pending: (self.status.set_connectivity(text),
                                   self.status.set_pending(pending)))
        self._follow_changes()
        self.panels["Tests"].known_fixes.article_requested.connect(
            lambda article_id: (self.show_panel("Knowledge"),
                                self.panels["Knowledge"].show_article(article_id)))
        self._build_menus()
        self._restore()
        # The address book needs the database; it fills in on the first event-loop turn so the
        # window is on screen before SQLAlchemy has even loaded.
        QTimer.singleShot(0, self.panels["Tests"].refresh)
        if ctx.settings_problem:
            self.status.showMessage(f"Settings file unusable, running on defaults: "
                                    f"{ctx.settings_problem}", 30000)

    def _follow_changes(self) -> None:
        """Every view reloads when anyone (a panel, the CLI, a sync, the SCP) changes the data."""
        self.db_watch = DataWatch(self.ctx, parent=self)
        changes, panels = self.db_watch.data_changed, self.panels
        tests = panels["Tests"]
        follow(changes, tests, tests.refresh)
        follow(changes, tests.history, tests.history.refresh)
        for name in ("Discovery", "Reports"):
            follow(changes, panels[name], panels[name].refresh)
        changes.connect(panels["Incidents"].data_changed)  # it follows for its tabs itself
        changes.connect(panels["Sync"].data_changed)  # the status bar's count, shown or not

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        settings = QAction("&Settings…", self)
        settings.setShortcut(QKeySequence.StandardKey.Preferences)
        settings.triggered.connect(self.open_settings)
        file_menu.addAction(settings)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About PACS Console", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self.settings_action, self.quit_action, self.about_action = settings, quit_action, about

    def _restore(self) -> None:
        """The last geometry if it still fits this screen, else fitted to the available screen
        (a 1366×768 field laptop gets all of it; the choice is remembered on close)."""
        geometry = self.state.value("geometry")
        if geometry is None or not self.restoreGeometry(geometry) or not self._fits():
            self.fit_to_screen()
        last = self.state.value("panel", "Tests")
        self.show_panel(last if last in self.panels else "Tests")

    def _available(self) -> QRect:
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def _fits(self) -> bool:
        return self._available().contains(self.frameGeometry()) or self.isMaximized()

    def fit_to_screen(self) -> None:
        available = self._available()
        if available.width() <= 1600 or available.height() <= 900:
            # A laptop: all of it. Maximised, so the window manager's title bar fits too.
            self.resize(available.size())
            self.move(available.topLeft())
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)
            return
        # A large desktop: a generous window centred, leaving room for the frame.
        size = QSize(min(available.width() - 80, 1760), min(available.height() - 80, 1040))
        self.resize(size)
        self.move(available.center() - QRect(0, 0, size.width(), size.height()).center())

    def show_panel(self, name: str) -> None:
        self.nav.setCurrentRow(PANELS.index(name))

    def current_panel(self) -> str:
        return PANELS[self.stack.currentIndex()]

    def open_settings(self) -> None:
        from pacs_console.core.reports.certs import certificate_info

        # The certificate (a 1 KB file: the public part only) is read on a worker.
        workers.start(certificate_info, self.ctx.paths.data,
                      on_result=lambda cert: self._settings_dialog(_certificate_text(cert)),
                      on_error=lambda exc: self._settings_dialog(
                          f"Cannot read the signing certificate: {exc}"))

    def _settings_dialog(self, text: str) -> None:
        scp = self.ctx.scp
        dialog = SettingsDialog(self.ctx.settings, self, certificate=text,
                                scp_listening=scp.port if scp is not None and scp.running else 0)
        if dialog.exec():
            # Written on a worker; the bar says so only once the file is written.
            workers.start(self.ctx.save_settings, dialog.value(), on_result=self._settings_saved,
                          on_error=self._settings_not_saved)

    def _settings_saved(self, _none) -> None:
        self.status.update_scp()
        self.status.showMessage("Settings saved.", 5000)

    def _settings_not_saved(self, exc: Exception) -> None:
        self.status.showMessage(f"Settings not saved: {getattr(exc, 'strerror', None) or exc}")

    def show_about(self) -> None:
        QMessageBox.about(self, "About PACS Console",
                          f"<b>PACS Console {__version__}</b><p>A field engineer's console for "
                          "hospital PACS.</p><p>Data folder: "
                          f"{self.ctx.paths.data}<br>Logs: {self.ctx.paths.logs}</p>")

    def demo_started(self, demo) -> None:
        self.status.set_demo(f"{demo.ae_title}@{demo.host}:{demo.port}")
        self.panels["Tests"].refresh()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.state.setValue("geometry", self.saveGeometry())
        self.state.setValue("panel", self.current_panel())
        self.state.sync()
        self.bridge.stop()
        self.db_watch.stop()
        # Servers a panel started (relay, HL7 listener, workflow SCP) stop with the window, and
        # the relay's trace is finished rather than cut off at exit.
        for panel in self.panels.values():
            for widget in (panel, *panel.findChildren(QWidget)):
                if callable(getattr(type(widget), "shutdown", None)):
                    widget.shutdown()
        super().closeEvent(event)
