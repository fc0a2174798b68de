"""Vector charts (reportlab.graphics) drawn from the recorded test-run metrics."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab import rl_config
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, PolyLine, String
from reportlab.lib import colors

from pacs_console.core.reports.model import Strokes, TestRunItem

FONT = "DejaVuSans"
# Attribute validation on every chart property set is a third of chart time; the charts are
# built here only, with values the tests cover.
rl_config.shapeChecking = 0
BLUE, ORANGE = colors.HexColor("#1f5fa8"), colors.HexColor("#d9822b")


def _axis_fonts(plot) -> None:
    for axis in (plot.xValueAxis, plot.yValueAxis) if hasattr(plot, "xValueAxis") else (
            plot.categoryAxis, plot.valueAxis):
        axis.labels.fontName = FONT
        axis.labels.fontSize = 7


def latency_series_chart(run: TestRunItem, width: float, height: float = 150) -> Drawing:
    """One echo series: round trip per C-ECHO, in order."""
    drawing = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 28, width - 55, height - 48
    plot.data = [[(i + 1, v) for i, v in enumerate(run.latency_series_ms)]]
    plot.lines[0].strokeColor, plot.lines[0].strokeWidth = BLUE, 1
    plot.yValueAxis.valueMin = 0
    _axis_fonts(plot)
    drawing.add(plot)
    drawing.add(String(40, height - 12, f"Round trip (ms) per C-ECHO — {run.node_label}, "
                       f"{run.started_at:%H:%M}", fontName=FONT, fontSize=8))
    drawing.add(String(width / 2, 4, "C-ECHO number", fontName=FONT, fontSize=7,
                       textAnchor="middle"))
    return drawing


def latency_trend_chart(runs: Sequence[TestRunItem], width: float,
                        height: float = 150) -> Drawing:
    """Median and 95th-percentile round trip of each echo test through the visit."""
    drawing = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 28, width - 55, height - 48
    medians = [(i + 1, r.latency_ms) for i, r in enumerate(runs) if r.latency_ms is not None]
    p95 = [(i + 1, r.latency_p95_ms) for i, r in enumerate(runs) if r.latency_p95_ms is not None]
    plot.data = [medians] + ([p95] if p95 else [])
    plot.lines[0].strokeColor, plot.lines[0].strokeWidth = BLUE, 1.2
    if p95:
        plot.lines[1].strokeColor, plot.lines[1].strokeWidth = ORANGE, 1
        plot.lines[1].strokeDashArray = (3, 2)
    plot.yValueAxis.valueMin = 0
    count = len(runs)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = (0, 2) if count == 1 else (1, count)
    plot.xValueAxis.valueSteps = list(range(1, count + 1, max(1, count // 10)))
    _axis_fonts(plot)
    drawing.add(plot)
    legend = "C-ECHO round trip (ms) per test: median" + (" and p95 (dashed)" if p95 else "")
    drawing.add(String(40, height - 12, legend, fontName=FONT, fontSize=8))
    drawing.add(String(width / 2, 4, "test, in order", fontName=FONT, fontSize=7,
                       textAnchor="middle"))
    return drawing


def throughput_chart(runs: Sequence[TestRunItem], width: float) -> Drawing:
    """MB/s of every store and retrieve test, one bar each."""
    rows = [r for r in runs if r.mb_per_s is not None]
    height = 40 + 14 * len(rows)
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 110, 20, width - 130, height - 40
    chart.data = [[r.mb_per_s for r in rows]]
    chart.categoryAxis.categoryNames = [f"{r.kind} {r.started_at:%H:%M}" for r in rows]
    chart.categoryAxis.reverseDirection = True
    chart.bars[0].fillColor = BLUE
    chart.valueAxis.valueMin = 0
    _axis_fonts(chart)
    drawing.add(chart)
    drawing.add(String(110, height - 12, "Throughput (MB/s) per store / retrieve test",
                       fontName=FONT, fontSize=8))
    return drawing


def strokes_drawing(strokes: Strokes, width: float, height: float) -> Drawing:
    """A handwritten signature as vector paths, scaled to fit and kept in proportion."""
    drawing = Drawing(width, height)
    if strokes.empty:
        return drawing
    scale = min(width / strokes.width, height / strokes.height)
    for stroke in strokes.strokes:
        if len(stroke) == 1:
            stroke = (stroke[0], (stroke[0][0] + 0.5, stroke[0][1]))
        points = []
        for x, y in stroke:
            points += [x * scale, height - y * scale]
        drawing.add(PolyLine(points, strokeColor=colors.HexColor("#14286e"), strokeWidth=1.3,
                             strokeLineCap=1, strokeLineJoin=1))
    return drawing
