"""Tests panel: the address book beside tabs that verify, query, retrieve, store and probe a node.

The address book is read, changed, imported and exported on workers; its table and the node
picker are models over the list read (ui/models/nodes.py), so a 10,000-node book shows at once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.models.nodes import NodePickerModel, NodeTableModel
from pacs_console.ui.testbench.history_tab import HistoryTab
from pacs_console.ui.testbench.verify_tab import VerifyTab
from pacs_console.ui.widgets.panel_parts import empty_state, panel_heading


def _load_nodes(ctx: Context) -> list:
    from pacs_console.core.db.nodes import list_nodes

    return list_nodes(ctx.db)


def _change(ctx: Context, operation: str, /, *args, **kwargs) -> None:
    """Worker thread: one address-book change, core.db.nodes' ``operation``(db, *args, **kwargs)."""
    from pacs_console.core.db import nodes

    getattr(nodes, operation)(ctx.db, *args, **kwargs)


def _export(ctx: Context, nodes: list, fmt: str, path: str) -> str:
    from pacs_console.core.addressbook import export_nodes

    Path(path).write_text(export_nodes(nodes, fmt), encoding="utf-8")
    return f"Exported {len(nodes)} node(s) to {path}"


class TestsPanel(QWidget):
    __test__ = False

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-tests")
        self.ctx = ctx
        self.nodes: list = []  # NodeRecord
        self._loading: workers.Worker | None = None
        self._load_again = False
        self.model = NodeTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 150), (2, 140), (3, 70), (4, 160)):
            self.table.setColumnWidth(column, width)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        # Fixed row heights: the view never asks every row for its size.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.doubleClicked.connect(lambda _index: self.edit_node())
        self.table.selectionModel().selectionChanged.connect(
            lambda _selected, _deselected: self._selection_changed())
        self.table.setObjectName("address-book")
        self.node_picker = QComboBox()
        self.node_picker.setModel(NodePickerModel(self.model, self))
        self.node_picker.view().setUniformItemSizes(True)
        self.node_picker.setObjectName("node-picker")
        self.node_picker.setMinimumContentsLength(38)
        self.node_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.node_picker.setPlaceholderText("no node yet")
        self.node_picker.setToolTip("The node every tab below works on")
        self.node_picker.currentIndexChanged.connect(self._picked)
        strip = QHBoxLayout()
        strip.addWidget(QLabel("Node"))
        strip.addWidget(self.node_picker)
        self.buttons = {}
        for name, slot, tip in (("Add", self.add_node, "Add a node (Ctrl+N)"),
                                ("Edit", self.edit_node, "Edit the selected node"),
                                ("Duplicate", self.duplicate_node, "Copy the selected node"),
                                ("Delete", self.delete_node, "Delete the selected node"),
                                ("Import…", self.import_nodes, "CSV, JSON, Orthanc or dcmqrscp.cfg"),
                                ("Export…", self.export_nodes, "CSV, JSON, Orthanc or dcmqrscp.cfg")):
            button = QPushButton(name)
            button.setToolTip(tip)
            # Through a lambda: clicked(bool) would hand False to a slot's optional path.
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            strip.addWidget(button)
            self.buttons[name] = button
        self.buttons["Add"].setShortcut("Ctrl+N")
        strip.addStretch(1)
        self.book_toggle = QPushButton("Address book")
        self.book_toggle.setObjectName("address-book-toggle")
        self.book_toggle.setCheckable(True)
        self.book_toggle.setChecked(True)  # open, a few rows high; one click makes it a strip
        self.book_toggle.setToolTip("Show every node as a table (name, AE title, host, port, tags)")
        self.book_toggle.toggled.connect(lambda _on: self._show_book())
        strip.addWidget(self.book_toggle)
        self.book_empty = empty_state(
            "No node yet. Add one with Add (Ctrl+N), import an address book with Import…, "
            "or find nodes with a Discovery sweep. Then pick it above and press C-ECHO once.")
        self.book = QWidget()
        book_layout = QVBoxLayout(self.book)
        book_layout.setContentsMargins(0, 0, 0, 0)
        book_layout.addWidget(self.book_empty)
        book_layout.addWidget(self.table)
        self.tabs = QTabWidget()
        self.verify = VerifyTab(ctx, self)
        self.history = HistoryTab(ctx, self)
        self.tabs.addTab(self.verify, "Verify")
        self._add_optional_tabs()
        self.tabs.addTab(self.history, "History")
        self.verify.run_saved.connect(lambda _run: self.history.refresh())
        from pacs_console.ui.widgets.known_fixes import KnownFixes

        self.known_fixes = KnownFixes(ctx)  # matching articles beside a run's diagnosis
        for tab in (self.verify, *self.operation_tabs.values()):
            if hasattr(tab, "run_saved"):
                tab.run_saved.connect(self.known_fixes.show_for_run)
        operations = QWidget()
        operations_layout = QVBoxLayout(operations)
        operations_layout.setContentsMargins(0, 0, 0, 0)
        operations_layout.addWidget(self.tabs, 1)
        operations_layout.addWidget(self.known_fixes)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.book)
        self.splitter.addWidget(operations)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(panel_heading(
            "Tests", "Check a DICOM node: echo it, query, retrieve and store images, and probe "
            "what it accepts. Every run is kept in History."))
        layout.addLayout(strip)
        layout.addWidget(self.splitter, 1)
        self._show_book()

    def _show_book(self) -> None:
        """The address book is a compact strip (the node picker); the table shows on demand,
        and the empty state while there is no node at all."""
        empty = not self.nodes
        self.table.setVisible(self.book_toggle.isChecked() and not empty)
        self.book_empty.setVisible(empty)
        self.book.setVisible(empty or self.book_toggle.isChecked())
        if self.table.isVisibleTo(self):  # opened: room for up to 6 nodes, the tabs keep the rest
            rows = min(max(len(self.nodes), 2), 6)
            wanted = self.table.horizontalHeader().height() + rows * self.table.rowHeight(0) + 6
            total = sum(self.splitter.sizes())
            if total > wanted:
                self.splitter.setSizes([wanted, total - wanted])

    def _picked(self, index: int) -> None:
        if 0 <= index < len(self.nodes) and self.selected_node() is not self.nodes[index]:
            self.table.selectRow(index)

    def _add_optional_tabs(self) -> None:
        """Query, retrieve, store and capability tabs; each builds on its core operation."""
        from pacs_console.ui.testbench import tabs_registry

        self.operation_tabs: dict[str, QWidget] = {}
        for title, factory in tabs_registry.TABS:
            tab = factory(self.ctx, self)
            self.operation_tabs[title] = tab
            self.tabs.addTab(tab, title)
            if hasattr(tab, "run_saved"):
                tab.run_saved.connect(lambda _run: self.history.refresh())
        query, retrieve = self.operation_tabs["Query"], self.operation_tabs["Retrieve"]
        query.retrieve_requested.connect(retrieve.fill)
        query.retrieve_requested.connect(lambda _m: self.tabs.setCurrentWidget(retrieve))

    # ---- address book ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Load the address book off the GUI thread (the first call also opens the database).
        While a load runs, further calls make one more load after it, not a pile of them."""
        if self._loading is not None:
            self._load_again = True
            return
        self._load_again = False
        self._loading = workers.start(_load_nodes, self.ctx, on_result=self.populate,
                                      on_error=self.show_error, on_finished=self._load_finished)

    def _load_finished(self) -> None:
        self._loading = None
        if self._load_again:
            self.refresh()

    def populate(self, nodes: list) -> None:
        if nodes == self.nodes:
            return  # unchanged: keep the selection and scroll position as they are
        selected = self.selected_node()
        self.nodes = nodes
        self.node_picker.blockSignals(True)
        self.model.set_nodes(nodes)  # one reset: the table and the picker ask for what they show
        self.node_picker.blockSignals(False)
        ids = [n.id for n in nodes]
        if selected is not None and selected.id in ids:
            self.table.selectRow(ids.index(selected.id))
        elif nodes:
            self.table.selectRow(0)
        self._sync_picker()
        self._show_book()

    def selected_node(self):
        rows = self.table.selectionModel().selectedRows()
        return self.nodes[rows[0].row()] if rows and rows[0].row() < len(self.nodes) else None

    def select_node(self, name: str) -> None:
        for row, node in enumerate(self.nodes):
            if node.name == name:
                self.table.selectRow(row)

    def _sync_picker(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].row() if rows else -1
        if self.node_picker.currentIndex() != row:
            self.node_picker.blockSignals(True)
            self.node_picker.setCurrentIndex(row)
            self.node_picker.blockSignals(False)

    def _selection_changed(self) -> None:
        self._sync_picker()
        self.history.refresh()
        node = self.selected_node()
        probe = self.operation_tabs.get("Capabilities")
        if probe is not None:
            saved = (node.capabilities or {}).get("entries", {}) if node else {}
            probe.show_matrix(saved)  # the last probe of this node, until a new one runs

    def _dialog(self, node=None):
        from pacs_console.ui.widgets.node_dialog import NodeDialog

        return NodeDialog(node, {n.name for n in self.nodes}, self)

    def _save(self, operation: str, /, *args, **kwargs) -> workers.Worker:
        """Save an address-book change on a worker; the book is read again once it is saved."""
        return workers.start(_change, self.ctx, operation, *args, on_result=lambda _: self.refresh(),
                             on_error=self.show_error, **kwargs)

    def add_node(self) -> None:
        dialog = self._dialog()
        if dialog.exec():
            values = dialog.values()
            self._save("save_node", values.pop("name"), values.pop("ae_title"),
                       values.pop("host"), values.pop("port"), tags=values.pop("tags"),
                       notes=values.pop("notes"), **values)

    def edit_node(self) -> None:
        node = self.selected_node()
        if node is None:
            return
        dialog = self._dialog(node)
        if dialog.exec():
            self._save("update_node", node.id, **dialog.values())

    def duplicate_node(self) -> None:
        node = self.selected_node()
        if node is not None:
            self._save("duplicate_node", node.id)

    def delete_node(self) -> None:
        node = self.selected_node()
        if node is None:
            return
        answer = QMessageBox.question(self, "Delete node",
                                      f"Delete {node.name} ({node.label})? Its test runs are kept.")
        if answer == QMessageBox.StandardButton.Yes:
            self._save("delete_node", node.id)

    def import_nodes(self, path: str | None = None) -> None:
        """Read, validate and write on a worker thread; the report comes back as a message."""
        from pacs_console.core.addressbook_import import import_file

        if not path:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import address book", "",
                "Address books (*.csv *.json *.cfg);;All files (*)")
        if not path:
            return
        self.import_worker = workers.start(import_file, self.ctx.db, path,
                                           on_result=self._imported, on_error=self.show_error)

    def _imported(self, report) -> None:
        self.last_import = report
        self.refresh()
        lines = [f"{row.action}: {row.where} {row.name} {row.detail}".strip()
                 for row in report.rows if row.action in ("refused", "changed")][:20]
        text = report.summary() + ("\n\n" + "\n".join(lines) if lines else "")
        if report.applied:  # said in the status bar: nothing to click away
            self._say(report.summary())
            self.import_box = None
            return
        self.import_box = QMessageBox(QMessageBox.Icon.Warning, "Import failed", text,
                                      QMessageBox.StandardButton.Ok, self)
        self.import_box.open()  # not exec(): nothing waits on the person reading it

    def _say(self, text: str) -> None:
        bar = getattr(self.window(), "statusBar", None)
        if callable(bar):
            bar().showMessage(text, 15000)

    def export_nodes(self, path: str | None = None, fmt: str | None = None) -> None:
        """Ask where (unless given); the file is written on a worker."""
        if not path:
            path, chosen = QFileDialog.getSaveFileName(
                self, "Export address book", "address-book.json",
                "PACS Console JSON (*.json);;CSV (*.csv);;Orthanc DicomModalities (*.json);;"
                "dcmqrscp HostTable (*.cfg)")
            if not path:
                return
            fmt = {"CSV": "csv", "Orthanc": "orthanc", "dcmqrscp": "dcmtk"}.get(
                chosen.split(" ")[0], "json")
        self._say(f"Exporting the address book to {path}…")
        workers.start(_export, self.ctx, [n for n in self.nodes if not n.is_demo] or self.nodes,
                      fmt or "json", path, on_result=self._say, on_error=self.show_error)

    def show_error(self, exc: Exception) -> None:
        self.verify.log.appendPlainText(f"Unexpected error: {exc}")

    # kept for callers of the first version of this panel
    def echo_selected(self) -> None:
        self.tabs.setCurrentWidget(self.verify)
        self.verify.start(1)
