"""Vector charts (reportlab.graphics) drawn from the recorded test-run metrics."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab import rl_config
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
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
                        height: float = 160) -> Drawing:
    """Median and 95th-percentile round trip of each echo test: separate tests are separate
    bars (a line between them would read as a trend that was never measured)."""
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 40, width - 55, height - 62
    medians = [r.latency_ms or 0.0 for r in runs]
    p95 = [r.latency_p95_ms if r.latency_p95_ms is not None else 0.0 for r in runs]
    has_p95 = any(r.latency_p95_ms is not None for r in runs)
    chart.data = [medians] + ([p95] if has_p95 else [])
    chart.bars[0].fillColor = BLUE
    if has_p95:
        chart.bars[1].fillColor = ORANGE
    chart.valueAxis.valueMin = 0
    chart.categoryAxis.categoryNames = [_test_label(r) for r in runs]
    chart.categoryAxis.labels.angle = 30 if len(runs) > 4 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(runs) > 4 else "n"
    chart.barSpacing, chart.groupSpacing = 1, 8
    _axis_fonts(chart)
    drawing.add(chart)
    legend = "C-ECHO round trip (ms) per test: median" + (" (blue) and p95 (orange)"
                                                         if has_p95 else "")
    drawing.add(String(40, height - 12, legend, fontName=FONT, fontSize=8))
    return drawing


def _test_label(run: TestRunItem) -> str:
    node = run.node_label.split("@", 1)[0][:14]
    return f"{node} {run.started_at:%H:%M}"


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
