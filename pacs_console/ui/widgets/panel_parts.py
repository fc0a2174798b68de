"""Layout pieces every panel shares: a heading with one line saying what the panel is for, an
empty state that says what to do first, and output areas a person can resize. One module so
the panels (and the layout tests) agree."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QSplitter, QVBoxLayout, QWidget


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
