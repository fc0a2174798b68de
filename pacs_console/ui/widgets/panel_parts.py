"""Layout pieces every panel shares: a heading with one line saying what the panel is for, an
empty state that says what to do first, and output areas a person can resize. One module so
the panels (and the layout tests) agree."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QDateTimeEdit,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def panel_heading(title: str, purpose: str, right: QLayout | None = None) -> QWidget:
    """``<h2>title</h2>`` (objectName ``panel-heading``) over the purpose line
    (``panel-purpose``); ``right`` (buttons) sits beside the heading."""
    box = QWidget()
    box.setObjectName("panel-heading-box")
    heading = QLabel(f"<h2>{title}</h2>")
    heading.setObjectName("panel-heading")
    line = QLabel(purpose)
    line.setObjectName("panel-purpose")
    line.setWordWrap(True)
    line.setStyleSheet("color: palette(placeholder-text);")
    top = QHBoxLayout()
    top.setContentsMargins(0, 0, 0, 0)
    top.addWidget(heading, 1)
    if right is not None:
        top.addLayout(right)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 2)
    layout.setSpacing(0)
    layout.addLayout(top)
    layout.addWidget(line)
    return box


def empty_state(text: str) -> QLabel:
    """A centred, wrapped hint shown where content will be (objectName ``empty-state``)."""
    label = QLabel(text)
    label.setObjectName("empty-state")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: palette(placeholder-text); padding: 12px;")
    return label


def resizable(*parts, stretch: tuple[int, ...] = ()) -> QSplitter:
    """Output areas a person can resize: each part (a widget, or a row layout above a widget)
    becomes one pane of a vertical splitter."""
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.setChildrenCollapsible(False)
    for index, part in enumerate(parts):
        if isinstance(part, tuple):
            pane = QWidget()
            column = QVBoxLayout(pane)
            column.setContentsMargins(0, 0, 0, 0)
            for piece in part:
                if isinstance(piece, QLayout):
                    column.addLayout(piece)
                else:
                    column.addWidget(piece, 1)
            part = pane
        splitter.addWidget(part)
        if index < len(stretch):
            splitter.setStretchFactor(index, stretch[index])
    return splitter


def stack(layout: QBoxLayout, *parts) -> QBoxLayout:
    """Add ``parts`` in order to a box layout: a widget, a layout, ``(widget, stretch)``, a
    text (a label) or a number (a stretch of that factor)."""
    for part in parts:
        if isinstance(part, tuple):
            layout.addWidget(*part)
        elif isinstance(part, str):
            layout.addWidget(QLabel(part))
        elif isinstance(part, int):
            layout.addStretch(part)
        elif isinstance(part, QLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part)
    return layout


def row(*parts) -> QHBoxLayout:
    """``parts`` (as for ``stack``) side by side."""
    return stack(QHBoxLayout(), *parts)


def column(owner: QWidget | None, *parts) -> QVBoxLayout:
    """``parts`` (as for ``stack``) one under the other, as ``owner``'s layout if given."""
    return stack(QVBoxLayout(owner) if owner is not None else QVBoxLayout(), *parts)


def pane(*parts, horizontal: bool = False) -> QWidget:
    """A margin-less widget holding ``parts`` in a column (or a row): a splitter's pane."""
    box = QWidget()
    layout = QHBoxLayout(box) if horizontal else QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    stack(layout, *parts)
    return box


def split(*widgets, vertical: bool = False, sizes: tuple[int, ...] = (),
          stretch: tuple[int, ...] = ()) -> QSplitter:
    """Widgets side by side (or one above the other) that a person can resize."""
    splitter = QSplitter(Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal)
    for widget in widgets:
        splitter.addWidget(widget)
    for index, factor in enumerate(stretch):
        if factor is not None:
            splitter.setStretchFactor(index, factor)
    if sizes:
        splitter.setSizes(list(sizes))
    return splitter


def form_rows(rows, form: QFormLayout | None = None) -> QFormLayout:
    """A form from ``(label, widget or layout)`` pairs; a pair with label None is a full row."""
    form = form if form is not None else QFormLayout()
    for label, field in rows:
        if label is None:
            form.addRow(field)
        else:
            form.addRow(label, field)
    return form


def record_table(columns, *, stretch_last: bool = True) -> QTableWidget:
    """A read-only table of records, one selected row at a time, columns fitted to content."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(stretch_last)
    return table


def fill_table(table: QTableWidget, rows) -> None:
    """``rows`` of ``(key, cells)``: each cell's text shown, ``key`` kept as its UserRole data."""
    rows = list(rows)
    table.setRowCount(len(rows))
    for row, (key, cells) in enumerate(rows):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            table.setItem(row, column, item)


def datetime_edit(value: QDateTime) -> QDateTimeEdit:
    """A date and time field with a calendar, shown as 2026-12-05 09:30."""
    edit = QDateTimeEdit(value)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    return edit


def dialog_buttons(buttons, accepted, rejected) -> QDialogButtonBox:
    """A dialog's standard buttons (``buttons``, or-ed together) wired to two slots."""
    box = QDialogButtonBox(buttons)
    box.accepted.connect(accepted)
    box.rejected.connect(rejected)
    return box


def button(text: str, slot, tip: str = "", name: str = "") -> QPushButton:
    """A push button that calls ``slot()`` (never with ``clicked``'s checked flag); ``name``
    is its objectName."""
    widget = QPushButton(text)
    if tip:
        widget.setToolTip(tip)
    if name:
        widget.setObjectName(name)
    widget.clicked.connect(lambda: slot())
    return widget
