"""One series on screen: instance strip, image view, slice slider, window presets and cine."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.imaging.render import CT_PRESETS, FrameLoader
from pacs_console.core.imaging.thumbs import ThumbCache
from pacs_console.ui import workers
from pacs_console.ui.widgets.image_view import ImageView
from pacs_console.ui.widgets.instance_strip import InstanceStrip

READ_AHEAD = 3  # slices decoded ahead of the one on screen, in the direction of travel
TAGS_SETTLE_MS = 150  # the tag browser follows a scroll once it pauses this long


_THREADS: QThreadPool | None = None


def thumbnail_threads() -> QThreadPool:
    """Thumbnail generators run for seconds: on their own threads they never hold up the
    global pool that loads frames, tags and indexes."""
    global _THREADS
    if _THREADS is None:
        _THREADS = QThreadPool()
        _THREADS.setMaxThreadCount(2)
    return _THREADS


class SeriesViewer(QWidget):
    """Emits ``instance_shown(path)`` when another file comes on screen (for the tag browser)."""

    instance_shown = Signal(str)
    failed = Signal(object)

    def __init__(self, thumbs: ThumbCache, loader: FrameLoader | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs, self.loader = thumbs, loader or FrameLoader()
        self.slices: list[tuple[object, int]] = []  # (InstanceRow, frame index)
        self.current = -1
        self.frames: OrderedDict[tuple[str, int], object] = OrderedDict()
        self.shown_path = ""
        self.reading = 0  # series lists being read on a worker
        self._asked = 0  # the latest series asked for: an answer to an earlier one is dropped
        self._new_series = False
        self._pending: tuple[str, int] | None = None
        self._row_of: dict[str, int] = {}  # SOP Instance UID -> strip row
        self._slice_of: dict[str, int] = {}  # SOP Instance UID -> its first slice
        self._loading: set[tuple[str, int]] = set()  # frames asked of a worker, not back yet
        self._direction = 1
        # While slices fly past (a held key, cine), the tag browser follows once they settle.
        self._tags_timer = QTimer(self)
        self._tags_timer.setSingleShot(True)
        self._tags_timer.setInterval(TAGS_SETTLE_MS)
        self._tags_timer.timeout.connect(lambda: self.instance_shown.emit(self.shown_path))
        self.strip = InstanceStrip(thumbs, thumbnail_threads())
        self.strip.row_chosen.connect(self._strip_selected)
        self.strip.failed.connect(self.failed.emit)
        self.view = ImageView()
        self.view.slice_step.connect(self.step)
        self.view.window_changed.connect(self._window_changed)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("slice-slider")
        self.slider.valueChanged.connect(self.show_slice)
        self.slice_label = QLabel("–")
        self.presets = QComboBox()
        self.presets.setObjectName("window-presets")
        self.presets.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.presets.activated.connect(self._preset_chosen)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self.set_playing)
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(10)
        self.fps.setSuffix(" fps")
        self.fps.valueChanged.connect(self._fps_changed)
        self.cine = QTimer(self)
        self.cine.setInterval(100)
        self.cine.timeout.connect(self._cine_tick)
        controls = QHBoxLayout()
        for widget, stretch in ((self.slider, 1), (self.slice_label, 0), (self.presets, 0),
                                (self.play_button, 0), (self.fps, 0)):
            controls.addWidget(widget, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.strip)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)

    def cancel_work(self) -> None:
        self.set_playing(False)
        self.strip.cancel_work()

    def read_series(self, read, *args) -> workers.Worker:
        """Read a series' instances on a worker (``read(*args)``) and show them when they are
        in, unless another series was asked for meanwhile (the latest click wins)."""
        self._asked += 1
        self.reading += 1
        # Until the list is in, the last series' slices are gone: keys and the wheel do nothing
        # rather than step through a series that is no longer chosen.
        self.set_playing(False)
        self.slices, self.current = [], -1
        self.view.set_message("Reading the series…")
        return workers.start(_tagged, self._asked, read, *args, on_result=self._series_read,
                             on_error=self.failed.emit, on_finished=self._read_done)

    def _series_read(self, answer: tuple[int, list]) -> None:
        asked, instances = answer
        if asked == self._asked:
            self.open_series(instances)

    def _read_done(self) -> None:
        self.reading -= 1

    def open_series(self, instances: list) -> None:
        """Show a series: one slice per frame of every instance that has pixels."""
        self.set_playing(False)
        self.slices = [(inst, f) for inst in instances if inst.has_pixels
                       for f in range(max(inst.frames, 1))]
        self._row_of = {inst.sop_uid: row for row, inst in enumerate(instances)}
        self._slice_of = {}
        for i, (inst, _) in enumerate(self.slices):
            self._slice_of.setdefault(inst.sop_uid, i)
        self._loading.clear()
        # The strip is a model reset (no items built) and its thumbnails come from a worker.
        self.strip.show_instances(instances)
        self.current = -1
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self.slices) - 1, 0))
        self.slider.blockSignals(False)
        self._new_series = True
        self.shown_path = ""
        if self.slices:
            self.show_slice(0)
        else:
            self.view.set_message("This series holds no images.")
            if instances:
                self.instance_shown.emit(instances[0].path)

    # -- slices ------------------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        self.show_slice(self.current + delta)

    def show_slice(self, i: int) -> None:
        if not self.slices:
            return
        i = max(0, min(int(i), len(self.slices) - 1))
        if i == self.current:
            return
        if self.current >= 0:
            self._direction = 1 if i > self.current else -1
        self.current = i
        self.slider.blockSignals(True)
        self.slider.setValue(i)
        self.slider.blockSignals(False)
        inst, frame_index = self.slices[i]
        self.slice_label.setText(f"{i + 1} / {len(self.slices)}")
        row = self._row_of.get(inst.sop_uid, -1)
        if row >= 0 and self.strip.current_row() != row:
            self.strip.set_current_row(row)
        key = (inst.path, frame_index)
        if key in self.frames:
            self.frames.move_to_end(key)
            self._display(i, self.frames[key])
        else:
            self._pending = key
            self._load(key, on_error=self._frame_failed)
        self._read_ahead(i)
        if inst.path != self.shown_path:
            first = not self.shown_path
            self.shown_path = inst.path
            if first:  # the first image of a series: its tags at once
                self.instance_shown.emit(inst.path)
            else:
                self._tags_timer.start()

    def _load(self, key: tuple[str, int], on_error) -> None:
        if key in self._loading:
            return  # already asked (read ahead): its answer is shown when it comes
        self._loading.add(key)
        workers.start(self.loader.load_keyed, *key, on_result=self._loaded, on_error=on_error)

    def _read_ahead(self, i: int) -> None:
        """Decode the next few slices in the direction of travel, so scrolling and cine find
        them ready instead of waiting for each file in turn."""
        for step in range(1, READ_AHEAD + 1):
            j = i + step * self._direction
            if not 0 <= j < len(self.slices):
                return
            inst, frame_index = self.slices[j]
            key = (inst.path, frame_index)
            if key not in self.frames:
                self._load(key, on_error=self._ahead_failed)

    def _ahead_failed(self, exc: Exception) -> None:
        """A slice read ahead failed: which one is not known here, so anything still awaited is
        forgotten and the slice on screen, if not decoded yet, is asked again with its diagnosis."""
        self._loading.clear()
        if 0 <= self.current < len(self.slices):
            inst, index = self.slices[self.current]
            if (inst.path, index) not in self.frames:
                self._load((inst.path, index), on_error=self._frame_failed)

    def _loaded(self, answer) -> None:
        key, frame = answer
        self._loading.discard(key)
        self.frames[key] = frame
        while len(self.frames) > 64:
            self.frames.popitem(last=False)
        if 0 <= self.current < len(self.slices):
            inst, index = self.slices[self.current]
            if (inst.path, index) == key:
                self._display(self.current, frame)

    def _frame_failed(self, exc: Exception) -> None:
        self._loading.clear()
        from pacs_console.core.imaging.render import explain_decode_error

        self.view.set_message(explain_decode_error(exc))

    def _display(self, i: int, frame) -> None:
        new = getattr(self, "_new_series", False)
        self._new_series = False
        info = dict(frame.info)
        if frame.frames > 1:
            info["slice"] = f"Frame {frame.index + 1}/{frame.frames}"
        self.view.overlay = info
        self.view.set_frame(frame, keep_window=not new)
        if new:
            self._fill_presets(frame)
            if frame.frame_time_ms:
                self.fps.setValue(max(1, min(60, round(1000 / frame.frame_time_ms))))

    def _strip_selected(self, row: int) -> None:
        if row < 0:
            return
        i = self._slice_of.get(self.strip.sop_uid(row))
        if i is not None:
            self.show_slice(i)

    # -- window presets and cine ---------------------------------------------------------------------
    def _fill_presets(self, frame) -> None:
        self.presets.clear()
        if frame.color:
            self.presets.setEnabled(False)
            return
        self.presets.setEnabled(True)
        for center, width, name in frame.windows:
            self.presets.addItem(f"File: {name}", (center, width))
        self.presets.addItem("Auto", frame.auto)
        for name, center, width in CT_PRESETS:
            self.presets.addItem(f"CT {name}", (center, width))

    def _preset_chosen(self, row: int) -> None:
        value = self.presets.itemData(row)
        if value:
            self.view.set_window(*value)

    def _window_changed(self, center: float, width: float) -> None:
        self.view.setToolTip(f"Window {width:.0f} / level {center:.0f}")

    def set_playing(self, playing: bool) -> None:
        if self.play_button.isChecked() != playing:
            self.play_button.setChecked(playing)
            return
        if playing and len(self.slices) > 1:
            self.cine.start()
            self.play_button.setText("Stop")
        else:
            self.cine.stop()
            self.play_button.setText("Play")

    def _fps_changed(self, value: int) -> None:
        self.cine.setInterval(int(1000 / value))

    def _cine_tick(self) -> None:
        self.show_slice((self.current + 1) % len(self.slices) if self.slices else 0)


def _tagged(asked: int, read, *args) -> tuple[int, list]:
    return asked, read(*args)
