"""The files of the article on screen (Knowledge panel): listed, attached, saved out.

Attaching goes through core ``kb.files.attach`` on a worker: text is scrubbed of patient data,
a screenshot is taken only after the engineer confirms it shows no patient, DICOM and PDF are
refused (one line, in the panel's status). "Save a copy…" writes a file kept on this laptop
wherever the engineer chooses (again on a worker); a file another laptop attached shows as
"not on this laptop yet" until a sync brings it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pacs_console.ui import workers

ENTRY = Qt.ItemDataRole.UserRole


def _save_copy(files_dir: Path, item: str, target: str) -> str:
    from pacs_console.core.kb.files import read

    found = read(files_dir, item)
    if found is None:
        raise FileNotFoundError("that file is not on this laptop (yet): sync to fetch it")
    Path(target).write_bytes(found[1])
    return target


def _attach(db, files_dir: Path, article_id: int, path: str, confirm_no_phi: bool):
    from pacs_console.core.kb.files import attach

    return attach(db, files_dir, article_id, Path(path), confirm_no_phi=confirm_no_phi)


class ArticleFiles(QWidget):
    changed = Signal(int, str)  # article id, what happened (in words)
    said = Signal(str)  # a result or a refusal, for the panel's status line

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.files_dir = ctx.paths.data / "kb-files"
        self.article_id: int | None = None
        self.list = QListWidget()
        self.list.setObjectName("kb-files")
        self.list.setMaximumHeight(80)
        self.attach_button = QPushButton("Attach file…")
        self.attach_button.setToolTip("A log, trace or config (patient data scrubbed) or a "
                                      "screenshot with no patient on it; 1 MiB, 5 per article")
        self.attach_button.clicked.connect(self._choose)
        self.attach_button.setEnabled(False)  # until an article is on screen
        self.save_button = QPushButton("Save a copy…")
        self.save_button.clicked.connect(self._save)
        self.save_button.setEnabled(False)
        self.list.currentItemChanged.connect(lambda *_: self.save_button.setEnabled(
            self._entry() is not None))
        buttons = QHBoxLayout()
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("Files"))
        column.addWidget(self.list)
        column.addLayout(buttons)

    def show_for(self, article) -> None:
        from pacs_console.core.kb.files import parse, path_of

        self.article_id = article.id if article is not None else None
        self.list.clear()
        listed_files = article.attachments if article is not None else ()
        for listed in listed_files:
            name, sha = parse(listed)
            # a look at the folder only; the copy itself is checked when it is saved out
            here = sha is not None and path_of(self.files_dir, sha).is_file()
            item = QListWidgetItem(name if here else f"{name} (not on this laptop yet)")
            item.setData(ENTRY, listed if here else None)
            self.list.addItem(item)
        if article is not None and not listed_files:
            empty = QListWidgetItem("No files: attach a log, a trace or a screenshot")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(empty)
        self.attach_button.setEnabled(self.article_id is not None)
        self.save_button.setEnabled(False)

    def _entry(self) -> str | None:
        item = self.list.currentItem()
        return item.data(ENTRY) if item is not None else None

    def _choose(self) -> None:
        from pacs_console.core.kb.files import IMAGES

        if self.article_id is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Attach a file to the article")
        if not path:
            return
        confirm = False
        if Path(path).suffix.lower() in IMAGES:
            answer = QMessageBox.question(
                self, "A screenshot", "Articles go to every colleague and the helpdesk. "
                "Does this picture show no patient name, ID or image?")
            if answer != QMessageBox.StandardButton.Yes:
                self.said.emit("Not attached: a screenshot needs your word that it shows no "
                               "patient")
                return
            confirm = True
        article_id, name = self.article_id, Path(path).name
        self.said.emit(f"Attaching {name}…")
        workers.start(_attach, self.ctx.db, self.files_dir, article_id, path, confirm,
                      on_result=lambda _a: self.changed.emit(
                          article_id, f"{name} attached; it goes to the helpdesk at the next "
                          "sync"),
                      on_error=lambda exc: self.said.emit(f"Not attached: {exc}"))

    def _save(self) -> None:
        listed = self._entry()
        if listed is None:
            return
        from pacs_console.core.kb.files import parse

        name = parse(listed)[0]
        target, _ = QFileDialog.getSaveFileName(self, "Save a copy of the file", name)
        if not target:
            return
        workers.start(_save_copy, self.files_dir, listed, target,
                      on_result=lambda saved: self.said.emit(f"Saved a copy to {saved}"),
                      on_error=lambda exc: self.said.emit(f"Not saved: {exc}"))
