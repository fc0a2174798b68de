"""Sync panel: the outbox (pending, in flight, done, failed), Sync now, conflicts, credentials."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError
from pacs_console.core.sync import helpdesk
from pacs_console.core.sync.adapters.base import HelpdeskConfig
from pacs_console.ui import workers
from pacs_console.ui.db_watch import follow
from pacs_console.ui.models.rows_model import RowsModel
from pacs_console.ui.widgets.columns import size_columns
from pacs_console.ui.widgets.node_conflicts import NodeConflicts
from pacs_console.ui.widgets.panel_parts import button, empty_state, pane, panel_heading

COLUMNS = ("#", "State", "Kind", "Incident", "What", "Device time", "Attempts", "Updated",
           "Error")
def undelivered_text(counts: dict) -> str:
    """'Not delivered 4: 1 pending · 3 in flight' (only what is there), or 'All delivered':
    never '0 pending' while items are in flight or failed."""
    parts = [f"{counts[k]} {k.replace('_', ' ')}" for k in ("pending", "in_flight", "failed")
             if counts.get(k)]
    # Knowledge articles not at the helpdesk are undelivered too (core/sync/articles.unsent).
    parts += [f"{counts[k]} {label}" for k, label in (
        ("articles_pending", "article(s) not sent"),
        ("articles_conflict", "article(s) in conflict")) if counts.get(k)]
    total = undelivered_count(counts)
    return f"Not delivered {total}: " + " · ".join(parts) if total else "All delivered"


def undelivered_count(counts: dict) -> int:
    return sum(counts.get(k, 0) for k in ("pending", "in_flight", "failed", "articles_pending",
                                          "articles_conflict"))


FILTERS = {"All": ("pending", "in_flight", "done", "failed", "cancelled"), "Pending": ("pending",), "In flight": ("in_flight",),
           "Done": ("done",), "Failed": ("failed",), "Cancelled": ("cancelled",)}


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""  # as the incident log shows it


def _row(item) -> dict:
    error = item.last_error
    if item.diagnosis and item.diagnosis.get("actions"):
        error += " — " + "; ".join(item.diagnosis["actions"])
    return {"#": item.id, "State": item.state.replace("_", " "), "Kind": item.kind,
            "Incident": item.incident_id or item.incident_uuid[:8], "What": item.summary,
            "Device time": _time(item.device_time), "Attempts": item.attempts,
            "Updated": _time(item.updated_at), "Error": error}


def _snapshot(ctx: Context, states: tuple[str, ...], generation: int = 0) -> tuple:
    """Worker: the table rows, counts and conflicts, read in one go off the GUI thread."""
    from pacs_console.core.sync import inventory_conflicts, outbox, tickets

    items = outbox.list_items(ctx.db, states, limit=1000)
    conflicts = [(f"Incident {e.incident_id}, ticket {e.ticket_id}: {e.conflict}", None)
                 for e in tickets.events(ctx.db, conflicts_only=True)]
    conflicts += [(inventory_conflicts.conflict_text(c), c["node_id"])
                  for c in inventory_conflicts.conflicts(ctx.db)]
    return generation, [_row(i) for i in items], _counts(ctx), conflicts



def _probe(ctx: Context) -> tuple:
    """Worker: is the helpdesk there, how much is waiting, is there a token to send with."""
    from pacs_console.core.sync import connectivity

    return (connectivity.check(helpdesk.load_config(ctx).url, timeout=5.0), _counts(ctx),
            bool(helpdesk.token(ctx)))  # the keyring is asked here, not on the GUI thread


def _counts(ctx: Context) -> dict:
    """The outbox's counts and the knowledge articles not at the helpdesk yet."""
    from pacs_console.core.sync import articles, outbox

    return {**outbox.counts(ctx.db), **articles.unsent(ctx.db)}


def _sync(ctx: Context, wake: bool):
    """Worker: one sync; ``wake`` first, as "now" means now, also for items backing off."""
    from pacs_console.core.sync import outbox

    if wake:
        outbox.wake(ctx.db)
    return (yield from helpdesk.sync_once(ctx))


def _outbox_change(ctx: Context, change: str, items: list[int]) -> int:
    """Worker: outbox.retry or outbox.cancel on each item; how many changed."""
    from pacs_console.core.sync import outbox

    return sum(getattr(outbox, change)(ctx.db, item) for item in items)


def _test(ctx: Context):
    client = helpdesk.adapter(ctx)
    try:
        return client.check()
    finally:
        client.close()


class SyncPanel(QWidget):
    # Connectivity text and pending count for the status bar.
    status_changed = Signal(str, int)
    # Emitted (by the main window) when anyone changed the data: table and counts reload.
    data_changed = Signal()

    def __init__(self, ctx: Context, parent: QWidget | None = None,
                 interval_ms: int = 15000) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sync_worker = None
        self.online = False
        self._signature = None
        self._connectivity: str | None = None  # the last probe's words, for the status bar
        self._build()
        self.load_credentials()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        # Network changes (Wi-Fi back, 4G dongle, VPN) trigger a check without waiting.
        self.net_timer = QTimer(self)
        self.net_timer.setInterval(3000)
        self.net_timer.timeout.connect(self._network_changed)
        self.net_timer.start()
        QTimer.singleShot(0, self.tick)
        # Shown: the table and its header from one snapshot; hidden: the status bar's count.
        follow(self.data_changed, self, self.refresh, stale=True)
        self.data_changed.connect(self._count_if_hidden)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(panel_heading(
            "Sync", "Send incidents, notes and evidence to the helpdesk (Request Tracker) "
            "whenever a connection is there; offline work waits here, nothing is lost."))
        top = QHBoxLayout()
        self.state_label = QLabel("Helpdesk: checking…")
        self.state_label.setObjectName("sync-state")
        self.counts_label = QLabel()
        self.counts_label.setObjectName("sync-counts")
        self.sync_button = button("Sync now", self.sync_now, name="sync-now")
        self.test_button = button("Test connection", self.test_connection, name="sync-test")
        for widget in (self.state_label, self.counts_label):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.sync_button)
        top.addWidget(self.test_button)
        layout.addLayout(top)
        self.message = QLabel()
        self.message.setObjectName("sync-message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

        bar = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.addItems(list(FILTERS))
        self.filter.currentTextChanged.connect(lambda _: self.refresh())
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retry_selected)
        self.cancel_button = QPushButton("Cancel item")
        self.cancel_button.clicked.connect(self.cancel_selected)
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.filter)
        bar.addStretch(1)
        bar.addWidget(self.retry_button)
        bar.addWidget(self.cancel_button)
        layout.addLayout(bar)

        splitter = QSplitter()
        self.model = RowsModel(COLUMNS, self)
        self.table = QTableView()
        self.table.setObjectName("outbox-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.verticalHeader().setVisible(False)
        size_columns(self.table, {"#": "9999", "State": "in_flight", "Kind": "comment",
                                  "Incident": "9999", "Device time": "2026-12-05 01:15",
                                  "Updated": "2026-12-05 01:15", "Error": "HTTP 503"},
                     ("What",))  # an error too long for its column is whole in the tooltip
        self.empty = empty_state(
            "Nothing to send yet. Set up the helpdesk on the right (URL, queue, user, API "
            "token), press Test connection, then Sync now; incidents you log are queued here.")
        outbox_box = pane(self.empty, (self.table, 1))
        for signal in (self.model.modelReset, self.model.rowsInserted, self.model.rowsRemoved):
            signal.connect(lambda *_: self.empty.setVisible(self.model.rowCount() == 0))
        splitter.addWidget(outbox_box)
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("Changed on both sides (review):"))
        self.conflicts = NodeConflicts(self.ctx)
        self.conflicts.resolved.connect(self.message.setText)  # said once the worker confirmed
        self.conflicts.resolved.connect(lambda _said: self.refresh())
        column.addWidget(self.conflicts, 1)
        column.addWidget(self._credentials_box())
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setSizes([800, 200])  # the outbox has the room; the form is filled once
        layout.addWidget(splitter, 1)

    def _credentials_box(self) -> QGroupBox:
        box = QGroupBox("Helpdesk (Request Tracker)")
        form = QFormLayout(box)
        self.url_edit, self.queue_edit, self.user_edit = QLineEdit(), QLineEdit(), QLineEdit()
        self.url_edit.setPlaceholderText("https://helpdesk.example.org")
        self.token_edit = QLineEdit()
        self.token_edit.setObjectName("token-edit")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_state = QLabel()
        self.token_state.setObjectName("token-state")
        self.save_button = QPushButton("Save credentials")
        self.save_button.clicked.connect(self.save_credentials)
        for label, widget in (("URL", self.url_edit), ("Queue", self.queue_edit),
                              ("User", self.user_edit), ("API token", self.token_edit),
                              ("", self.token_state), ("", self.save_button)):
            form.addRow(label, widget)
        return box

    # -- credentials --------------------------------------------------------------------------

    def load_credentials(self) -> None:
        """The settings at once; whether a token is stored is asked of the keyring on a worker."""
        config = helpdesk.load_config(self.ctx)
        self.url_edit.setText(config.url)
        self.queue_edit.setText(config.queue)
        self.user_edit.setText(config.user)
        self.token_edit.clear()
        workers.start(helpdesk.token_stored, self.ctx, on_result=self._show_token_state,
                      on_error=self._failed)

    def _show_token_state(self, stored: bool) -> None:
        # The value is never shown or put back into the field: only whether one is stored.
        self.token_edit.setPlaceholderText("stored — type to replace" if stored else "not stored")
        where = "OS keyring" if self.ctx.secrets.persistent else "this session only (no keyring)"
        self.token_state.setText(f"Token stored ({where})" if stored else "No token stored")

    def save_credentials(self) -> None:
        """Validate and store on a worker (settings file, keyring); said once saved."""
        old = helpdesk.load_config(self.ctx)
        config = HelpdeskConfig(**{**old.to_dict(), "url": self.url_edit.text().strip().rstrip("/"),
                                   "queue": self.queue_edit.text().strip(),
                                   "user": self.user_edit.text().strip()})
        self.save_button.setEnabled(False)
        self.message.setText("Saving the helpdesk settings…")
        workers.start(helpdesk.save_config, self.ctx, config,
                      self.token_edit.text().strip() or None, on_result=self._saved,
                      on_error=lambda exc: self.message.setText(f"Could not save: {exc}"),
                      on_finished=lambda: self.save_button.setEnabled(True))

    def _saved(self, _persistent: bool) -> None:
        self.load_credentials()
        self.message.setText("Helpdesk settings saved.")
        self.tick()

    # -- actions ------------------------------------------------------------------------------

    def sync_now(self, *, wake: bool = True) -> None:
        if self.sync_worker is not None:
            return
        self.sync_button.setEnabled(False)
        self.message.setText("Syncing…")
        self.sync_worker = workers.start(_sync, self.ctx, wake,
                                         on_progress=self._progress, on_result=self._synced,
                                         on_error=self._failed, on_finished=self._sync_done)

    def _progress(self, progress) -> None:
        self.message.setText(progress.message)

    def _synced(self, result) -> None:
        drained, pulled = result.drain, result.pull
        text = (f"Delivered {drained.delivered}, deferred {drained.deferred}, "
                f"failed {drained.failed}.")
        if pulled:
            text += f" Pulled back {pulled.events} change(s), {pulled.conflicts} conflict(s)."
        shared = result.articles
        if shared is not None:
            text += (f"\nArticles: sent {shared.sent}, received {shared.received}, "
                     f"{shared.conflicts} conflict(s) to review.")
            text += "".join(f"\nArticle not shared: {e.get('what', e)}"
                            for e in shared.errors[:3])
        if result.articles_note:
            text += f"\n{result.articles_note}."
        for failure in drained.failures[:3]:
            text += f"\n{failure['what']} — " + "; ".join(failure.get("actions", []))
        self.message.setText(text)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ConsoleError):
            self.message.setText(exc.diagnosis.text())
        else:
            self.message.setText(f"Sync failed: {type(exc).__name__}: {exc}")

    def _sync_done(self) -> None:
        self.sync_worker = None
        self.sync_button.setEnabled(True)
        self.refresh()
        self.tick()

    def test_connection(self) -> None:
        self.test_button.setEnabled(False)
        self.message.setText("Testing the helpdesk connection…")
        workers.start(_test, self.ctx, on_result=self._tested, on_error=self._failed,
                      on_finished=lambda: self.test_button.setEnabled(True))

    def _tested(self, report) -> None:
        lines = [f"{'✔' if c.ok else '✘'} {c.name}: {c.detail}" for c in report.checks]
        if report.diagnosis:
            lines.append(report.diagnosis.text())
        else:
            lines.append(f"Helpdesk ready ({report.elapsed_ms:.0f} ms).")
        self.message.setText("\n".join(lines))

    def _selected_ids(self) -> list[int]:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return [int(self.model.rows[r]["#"]) for r in sorted(rows)]

    def retry_selected(self) -> None:
        self._outbox("retry", "{} item(s) queued again.")

    def cancel_selected(self) -> None:
        self._outbox("cancel", "{} item(s) cancelled: they will not be sent.")

    def _outbox(self, change: str, said: str) -> None:
        workers.start(_outbox_change, self.ctx, change, self._selected_ids(), on_error=self._failed,
                      on_result=lambda n: (self.message.setText(said.format(n)), self.refresh()))

    # -- periodic -----------------------------------------------------------------------------

    def refresh(self) -> None:
        self._generation = getattr(self, "_generation", 0) + 1
        workers.start(_snapshot, self.ctx, FILTERS[self.filter.currentText()], self._generation,
                      on_result=self._show_snapshot)

    def _show_snapshot(self, snapshot) -> None:
        generation, rows, counts, conflicts = snapshot
        if generation != self._generation:
            return  # a later refresh (another filter, newer data) is on its way
        if rows != self.model.rows:
            selected = self._selected_ids()
            self.model.clear()
            self.model.append_rows(rows)
            for row, item in enumerate(rows):
                if item["#"] in selected:
                    self.table.selectRow(row)
        self._show_counts(counts)
        self.conflicts.show_conflicts(conflicts)

    def _count_if_hidden(self) -> None:
        if not self.isVisible():
            workers.start(_counts, self.ctx, on_result=self._show_counts)

    def _show_counts(self, counts: dict) -> None:
        self.counts_label.setText(undelivered_text(counts) + f" · done {counts['done']}")
        if self._connectivity is not None:
            self.status_changed.emit(self._connectivity, undelivered_count(counts))

    def tick(self) -> None:
        workers.start(_probe, self.ctx, on_result=self._probed)

    def _network_changed(self) -> None:
        """The network interfaces changed (cable in, Wi-Fi joined): probe now. Read on a worker."""
        from pacs_console.core.sync import connectivity

        def compare(signature) -> None:
            if self._signature is not None and signature != self._signature:
                self.tick()
            self._signature = signature

        workers.start(connectivity.network_signature, on_result=compare)

    def _probed(self, result) -> None:
        state, counts, has_token = result
        configured = helpdesk.load_config(self.ctx).configured
        text = state.label if configured else "not configured"
        self.state_label.setText(f"Helpdesk: {text}")
        self.state_label.setToolTip(state.detail)
        self._connectivity = text
        self._show_counts(counts)
        came_back = state.helpdesk and not self.online
        self.online = state.helpdesk
        # The outbox drains by itself once the helpdesk answers.
        waiting = counts["pending"] or counts["articles_pending"]
        if (configured and state.helpdesk and waiting and self.sync_worker is None
                and has_token):
            self.sync_now(wake=came_back)  # otherwise backoffs run their course
        elif self.isVisible():
            self.refresh()
