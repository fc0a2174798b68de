"""The services one running console shares: paths, settings, database, secrets, local SCPs."""

from __future__ import annotations

import importlib
import logging
import queue
import threading
from dataclasses import dataclass, field

from pacs_console.core.settings import Settings, SettingsError, load_settings, save_settings
from pacs_console.paths import AppPaths

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:  # the database and pynetdicom load on first use, after the window shows
    from pacs_console.core.db.engine import Database
    from pacs_console.core.dicom.servers.storage import StorageSCP
    from pacs_console.core.secrets import SecretStore

log = logging.getLogger(__name__)
DEMO_PORT = 11112
# The data layer the window's first background tasks use (address book, sync counts, sites).
# prepare() imports it on one thread before they start: SQLAlchemy and pydantic imported for
# the first time from two threads at once leave one with a "partially initialized module".
_DATA_LAYER = ("pacs_console.core.db.nodes", "pacs_console.core.db.testruns",
               "pacs_console.core.incidents.sites", "pacs_console.core.incidents.queries",
               "pacs_console.core.sync.outbox", "pacs_console.core.sync.connectivity")


@dataclass
class Context:
    """Built once by the composition root (GUI or CLI) and handed to whoever needs it."""

    paths: AppPaths
    settings: Settings
    settings_problem: str = ""
    # Records from pynetdicom server threads for the GUI bridge (never touched by handlers otherwise).
    arrivals: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    demo: object | None = None
    scp: StorageSCP | None = None
    scp_stale: bool = False  # settings saved while the SCP ran: it listens as they said before
    _db: Database | None = None
    _db_lock: threading.Lock = field(default_factory=threading.Lock)
    _secrets: SecretStore | None = None
    _secrets_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def secrets(self) -> SecretStore:
        """The secret store, made on first use: a command that keeps no secret (an echo, a
        find) does not load the module (~1.5 ms of its start)."""
        with self._secrets_lock:
            if self._secrets is None:
                from pacs_console.core.secrets import SecretStore

                self._secrets = SecretStore()
            return self._secrets

    @property
    def db(self) -> Database:
        """Opened (and migrated) on first use, once, whichever thread asks first."""
        with self._db_lock:
            if self._db is None:
                from pacs_console.core.db.engine import Database

                self._db = Database(self.paths.database)
            return self._db

    @property
    def db_opened(self) -> bool:
        """Whether the database is open already (asking never opens it)."""
        return self._db is not None

    def prepare(self) -> None:
        """Import the data layer and open (migrate) the database, once, on the calling thread."""
        for name in _DATA_LAYER:
            importlib.import_module(name)
        _ = self.db

    @classmethod
    def open(cls, paths: AppPaths) -> Context:
        paths.ensure()
        problem = ""
        try:
            settings = load_settings(paths.settings_file)
        except SettingsError as exc:
            # Keep the file for the engineer to inspect; run on defaults rather than not at all.
            problem = str(exc)
            settings = Settings()
        return cls.loaded(paths, settings, problem)

    @classmethod
    def loaded(cls, paths: AppPaths, settings: Settings, problem: str = "") -> Context:
        """The context for settings read already; ``problem``: why they are the defaults (the
        file was unusable), logged here (a command line reads them before its log is up)."""
        if problem:
            log.error("Settings unusable, running on defaults: %s", problem)
        return cls(paths, settings, settings_problem=problem)

    def save_settings(self, settings: Settings) -> None:
        save_settings(self.paths.settings_file, settings)
        self.settings = settings
        if self.scp is not None and not self.scp.running:
            self.scp = None  # the next start listens as the new settings say
        self.scp_stale = self.scp is not None  # running: the next start after a stop does

    def storage_scp(self) -> StorageSCP:
        """The one local Storage SCP, created on first use with the AE and port from settings."""
        if self.scp is not None and self.scp_stale and not self.scp.running:
            self.scp = None  # stopped since the settings changed: start as they now say
        if self.scp is None:
            from pacs_console.core.dicom.servers.storage import StorageSCP

            self.scp_stale = False
            settings = self.settings
            self.scp = StorageSCP(self.paths.store, settings.ae_title, settings.scp_port,
                                  host=settings.scp_bind, timeouts=settings.timeouts(),
                                  notify=self.arrivals, limits=settings.scp_limits(),
                                  known_aes=None if settings.scp_accept_any else self.known_aes,
                                  min_free=max(0, settings.scp_min_free_mb) << 20)
        return self.scp

    def scp_port(self) -> int:
        """Where C-MOVEs to this console arrive: the port the Storage SCP listens on or last
        listened on (what the PACS was told; a spot-check over C-MOVE receives there while the
        SCP is stopped), else the configured one (0: any free port)."""
        scp = self.scp
        return scp.port if scp is not None and scp.port else self.settings.scp_port

    def receiving_settings(self):
        """The settings with ``scp_port()`` as the receiving port, for a retrieve that receives
        on its own (the archive spot-check)."""
        from dataclasses import replace

        return replace(self.settings, scp_port=self.scp_port())

    def known_aes(self) -> set[str]:
        """Calling AEs the Storage SCP accepts by default: the address book's and the demo's."""
        from pacs_console.core.db.nodes import list_nodes

        titles = {node.ae_title.strip() for node in list_nodes(self.db)}
        titles.update(("DEMOPACS", self.settings.ae_title.strip()))  # the demo; our own checks
        if self.demo is not None:
            titles.add(self.demo.ae_title.strip())
        return titles

    def start_demo(self, host: str = "127.0.0.1", port: int | None = None):
        """Start the embedded demo PACS and list it in the address book as 'Demo PACS'."""
        from pacs_console.core.db.nodes import list_nodes, register_demo_node
        from pacs_console.core.dicom.servers.demo import DemoPacs

        def resolve(ae_title: str):
            if ae_title.strip() == self.settings.ae_title.strip():
                return ("127.0.0.1", self.scp_port())
            for node in list_nodes(self.db):
                if node.ae_title.strip() == ae_title.strip():
                    return (node.host, node.port)
            return None

        # A stable, well-known port lets other tools (echoscu, a viewer) reach the demo too;
        # if something already listens there, any free port will do.
        ports = [port] if port is not None else [DEMO_PORT, 0]
        for index, candidate in enumerate(ports):
            try:
                self.demo = DemoPacs(host=host, port=candidate, resolve_destination=resolve,
                                     timeouts=self.settings.timeouts(), notify=self.arrivals).start()
                break
            except OSError:
                if index == len(ports) - 1:
                    raise
        register_demo_node(self.db, self.demo.ae_title, self.demo.host, self.demo.port)
        return self.demo

    def close(self) -> None:
        for service in (self.scp, self.demo):
            if service is not None:
                try:
                    service.stop()
                except Exception:  # noqa: BLE001 - shutting down regardless
                    log.exception("Error stopping %s", type(service).__name__)
        if self._db is not None:
            self._db.close()
