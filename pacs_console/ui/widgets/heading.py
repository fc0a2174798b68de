"""Every panel opens the same way: a heading, one line saying what it is for, and an empty state
that says what to do first. One helper so the panels (and the layout tests) agree."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QVBoxLayout, QWidget


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
