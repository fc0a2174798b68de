"""A live pyqtgraph line plot of a few named series, bounded so hours of monitoring stay light."""

from __future__ import annotations

from collections import deque

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


MIN_PLOT_HEIGHT = 160  # below this the axis labels of a 1366×768 laptop overlap


class LivePlot(QWidget):
    """``append(series, x, y)`` adds a point; the curve redraws at most every ``refresh_ms``.

    Axis labels carry their unit in plain words ("Latency (ms)"): pyqtgraph's automatic SI
    prefixes ("seconds (x0.001)") are switched off so the numbers are the unit the label says.
    """

    def __init__(self, title: str, series: tuple[str, ...], y_label: str, x_label: str = "",
                 max_points: int = 5000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        # Follow the application's palette (light or dark OS theme) instead of pyqtgraph's black.
        palette = self.palette()
        self.plot = pg.PlotWidget(background=palette.color(palette.ColorRole.Base))
        text = palette.color(palette.ColorRole.Text)
        self.plot.setTitle(title, color=text)
        self.plot.setMinimumHeight(MIN_PLOT_HEIGHT)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
            self.plot.getAxis(axis).setTextPen(text)
            self.plot.getAxis(axis).setPen(palette.color(palette.ColorRole.Mid))
        self.plot.setLabel("left", y_label)
        if x_label:
            self.plot.setLabel("bottom", x_label)
        self.plot.addLegend(offset=(10, 10))
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.data: dict[str, tuple[deque, deque]] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        for index, name in enumerate(series):
            self.data[name] = (deque(maxlen=max_points), deque(maxlen=max_points))
            self.curves[name] = self.plot.plot(
                name=name, pen=pg.mkPen(_COLOURS[index % len(_COLOURS)], width=2),
                symbol="o", symbolSize=4, symbolBrush=_COLOURS[index % len(_COLOURS)])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def append(self, series: str, x: float, y: float | None) -> None:
        if y is None:
            return
        xs, ys = self.data[series]
        xs.append(x)
        ys.append(y)
        self.curves[series].setData(list(xs), list(ys))

    def clear(self) -> None:
        for name, (xs, ys) in self.data.items():
            xs.clear()
            ys.clear()
            self.curves[name].setData([], [])

    def points(self, series: str) -> int:
        return len(self.data[series][0])
