"""Query tab: C-FIND and Modality Worklist with a form for common keys; matches stream into a table."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.models.rows_model import RowsModel
from pacs_console.ui.testbench.run_tab import RunTab, status_line

MODELS = (("Study Root", "study"), ("Patient Root", "patient"), ("Modality Worklist", "worklist"))
FIELDS = (("name", "Patient name", "MENSAH* (wildcards * ?)"), ("patient_id", "Patient ID", ""),
          ("birth_date", "Birth date", "YYYYMMDD"), ("accession", "Accession", ""),
          ("date", "Study date", "YYYYMMDD or YYYYMMDD-YYYYMMDD"),
          ("modality", "Modality", "CT, MR, CR, US ..."), ("description", "Description", ""),
          ("station_ae", "Station AE (worklist)", ""))


def _write_matches(rows: list[dict], path: str) -> str:
    """Worker thread: the matches as CSV at ``path``."""
    from pacs_console.core.csvsafe import write_dicts

    with open(path, "w", newline="", encoding="utf-8") as handle:
        write_dicts(handle, rows)
    return path


class QueryTab(RunTab):
    retrieve_requested = Signal(dict)
    error_text = "The query stopped on an unexpected error"
    cancelling_text = "Cancelled (C-CANCEL sent)."

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        self._t0 = 0.0  # when the running search started
        self.model_box = QComboBox()
        self.model_box.setObjectName("query-model")
        for label, value in MODELS:
            self.model_box.addItem(label, value)
        self.level_box = QComboBox()
        self.level_box.setObjectName("query-level")
        self.level_box.addItems(["PATIENT", "STUDY", "SERIES", "IMAGE"])
        self.level_box.setCurrentText("STUDY")
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.inputs: dict[str, QLineEdit] = {}
        # Four fields a row: the matches table below keeps 12+ rows on a 1366×768 laptop.
        grid = QGridLayout()
        grid.setVerticalSpacing(4)
        grid.addWidget(QLabel("Model"), 0, 0)
        grid.addWidget(self.model_box, 0, 1)
        grid.addWidget(QLabel("Level"), 0, 2)
        grid.addWidget(self.level_box, 0, 3)
        for index, (key, label, hint) in enumerate(FIELDS):
            edit = QLineEdit()
            edit.setPlaceholderText(hint)
            edit.setToolTip(hint)
            edit.returnPressed.connect(self.search)
            self.inputs[key] = edit
            row, col = 1 + index // 4, (index % 4) * 2
            grid.addWidget(QLabel(label), row, col)
            grid.addWidget(edit, row, col + 1)
        for col in (1, 3, 5, 7):
            grid.setColumnStretch(col, 1)
        self.extra = QLineEdit()
        self.extra.setPlaceholderText("more keys: StudyInstanceUID=1.2.3; InstitutionName=  (empty = return it)")
        self.limit = QSpinBox()
        self.limit.setRange(0, 10_000_000)
        self.limit.setSpecialValueText("no limit")
        form = QHBoxLayout()
        form.addWidget(QLabel("Extra keys"))
        form.addWidget(self.extra, 1)
        form.addWidget(QLabel("Stop after"))
        form.addWidget(self.limit)
        self.search_button, self.cancel_button = self.run_buttons("Search", self.search)
        self.search_button.setShortcut("Ctrl+F")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.retrieve_button = QPushButton("Retrieve selected")
        self.retrieve_button.clicked.connect(self._retrieve_selected)
        buttons = QHBoxLayout()
        for button in (self.search_button, self.cancel_button, self.export_button,
                       self.retrieve_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = status_line("query-status")
        self.results = RowsModel(parent=self)
        self.view = QTableView()
        self.view.setModel(self.results)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.view.verticalHeader().setVisible(False)
        self.status.setText("Pick a node above, fill any keys (empty = all) and press Search.")
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)

    def _model_changed(self) -> None:
        self.level_box.setEnabled(self.model_box.currentData() != "worklist")

    def keys(self) -> tuple[dict[str, str], dict[str, str]]:
        keys = {k: e.text().strip() for k, e in self.inputs.items() if e.text().strip()}
        extra: dict[str, str] = {}
        for part in self.extra.text().split(";"):
            if "=" in part:
                key, value = part.split("=", 1)
                extra[key.strip()] = value.strip()
        return keys, extra

    def search(self) -> None:
        node = self.node_to_test()
        if node is None:
            return
        from pacs_console.core.db.testruns import run_recorded
        from pacs_console.core.dicom.identifiers import MATCH_COLUMNS as COLUMNS
        from pacs_console.core.dicom.names import column_title
        from pacs_console.core.dicom.ops.query import find
        from pacs_console.core.dicom.wire.target import Target
        from pacs_console.core.streams import batched

        model = self.model_box.currentData()
        level = self.level_box.currentText()
        keys, extra = self.keys()
        target = Target.from_node(node, self.ctx.settings)
        self.results.clear()
        columns = COLUMNS["WORKLIST" if model == "worklist" else level]
        self.results.set_columns(columns, [column_title(c) for c in columns])
        self._fit_columns()
        self._t0 = time.perf_counter()
        self.status.setText(f"Searching {target.label}…")
        operation = batched(find(target, level, keys, model=model, extra=extra,
                                 limit=self.limit.value() or None))
        # Cancel closes the generator, which sends C-CANCEL.
        self.launch(run_recorded, self.ctx.db, node.id, operation, on_progress=self.on_batch)

    def on_batch(self, batch: list) -> None:
        self.results.append_rows(batch)
        self.status.setText(f"{self.results.rowCount()} matches so far "
                            f"({time.perf_counter() - self._t0:.1f} s)…")

    def _fit_columns(self) -> None:
        """Every header readable; values widen a column up to a cap, the last one stretches."""
        metrics = self.view.horizontalHeader().fontMetrics()
        for column in range(self.results.columnCount()):
            title = str(self.results.headerData(column, Qt.Orientation.Horizontal))
            wanted = metrics.horizontalAdvance(title) + 28  # padding and the sort arrow
            if self.results.rowCount():
                wanted = max(wanted, min(self.view.sizeHintForColumn(column) + 12, 280))
            self.view.setColumnWidth(column, wanted)

    def on_done(self, outcome) -> None:
        self._fit_columns()
        super().on_done(outcome)

    def export_csv(self, path: str | None = None) -> None:
        """Ask where (unless given); the matches are written on a worker."""
        from pacs_console.ui.widgets.file_export import export_file

        export_file(self, self.export_button, self.status, _write_matches,
                    list(self.results.rows), path=path, title="Export matches",
                    suggested="matches.csv")

    def _retrieve_selected(self) -> None:
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        if rows:
            self.retrieve_requested.emit(self.results.rows[rows[0].row()])
