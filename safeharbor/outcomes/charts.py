"""The outcomes reports' charts (a bar per category, a step line over time), drawn with the
shared chart machinery in ``safeharbor.core.charts``: one Drawing serves the page (as inline
SVG, through ``to_svg``) and the PDF export (as a flowable), so both show the same picture.

A suppressed count is written as text in its bar's place, never drawn as a zero bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Group, Line, Polygon, PolyLine, Rect, String

from safeharbor.core.charts import (
    BAND,
    BAR,
    FONT,
    FONT_ITALIC,
    FONT_SIZE,
    GRID,
    INK,
    MUTED,
    WIDTH,
    Chart,
    Number,
    nice_step,
    to_svg,
)
from safeharbor.core.charts import number as _number
from safeharbor.core.charts import text_width as _text_width
from safeharbor.core.charts import wrap as _wrap

__all__ = [
    "BAND",
    "BAR",
    "FONT",
    "FONT_ITALIC",
    "FONT_SIZE",
    "GRID",
    "INK",
    "MUTED",
    "WIDTH",
    "Chart",
    "Number",
    "bar_chart",
    "nice_step",
    "step_chart",
    "to_svg",
]


def bar_chart(
    items: Sequence[tuple[str, Number | None]],
    *,
    title: str,
    description: str = "",
    width: float = WIDTH,
    bar_height: float = 14,
) -> Chart:
    """A horizontal bar per category. ``None`` is a suppressed count: the word "suppressed"
    stands in its bar's place (a zero bar would claim a value the report does not give)."""
    suppressed_text = _("suppressed")
    if not description:
        parts = [
            f"{label}: {suppressed_text if value is None else _number(value)}"
            for label, value in items
        ]
        description = "; ".join(parts) + "." if parts else _("No data.")
    row = bar_height + 8
    top, bottom = 6.0, 28.0
    height = top + bottom + row * max(len(items), 1)
    chart = Chart(width, height, title=title, description=description)
    if not items:
        chart.add(String(8, height / 2, _("No data."), fontName=FONT, fontSize=FONT_SIZE))
        return chart
    label_width = min(max(_text_width(label) for label, _v in items) + 10, width * 0.42)
    value_room = max(_text_width(suppressed_text, FONT_ITALIC), _text_width("0,000,000")) + 10
    plot_left, plot_right = label_width, width - value_room
    known = [float(v) for _label, v in items if v is not None]
    step = nice_step(max(known, default=0.0))
    if all(isinstance(v, int) for _label, v in items if v is not None):
        step = max(step, 1.0)  # counts: no tick at half a youth
    scale_max = step * max(1, math.ceil(max(known, default=0.0) / step))
    scale = (plot_right - plot_left) / scale_max
    axis_y = bottom - 8
    tick = 0.0
    while tick <= scale_max + 1e-9:
        x = plot_left + tick * scale
        chart.add(Line(x, axis_y, x, height - top, strokeColor=GRID, strokeWidth=0.5))
        chart.add(
            String(
                x,
                axis_y - 12,
                _number(int(tick) if tick.is_integer() else tick),
                fontName=FONT,
                fontSize=FONT_SIZE - 1,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
        tick += step
    chart.add(Line(plot_left, axis_y, plot_left, height - top, strokeColor=INK, strokeWidth=1))
    for index, (label, value) in enumerate(items):
        y = height - top - row * (index + 1) + 4
        lines = _wrap(label, label_width - 10)
        middle = y + bar_height / 2
        first = middle - 3.5 + (FONT_SIZE / 2 + 0.5) * (len(lines) - 1)
        for number, text in enumerate(lines):
            chart.add(
                String(
                    label_width - 6,
                    first - number * (FONT_SIZE + 1),
                    text,
                    fontName=FONT,
                    fontSize=FONT_SIZE,
                    fillColor=INK,
                    textAnchor="end",
                )
            )
        if value is None:
            chart.add(
                String(
                    plot_left + 6,
                    middle - 3.5,
                    suppressed_text,
                    fontName=FONT_ITALIC,
                    fontSize=FONT_SIZE,
                    fillColor=MUTED,
                )
            )
            continue
        length = float(value) * scale
        if length > 0:
            chart.add(Rect(plot_left, y, length, bar_height, fillColor=BAR, strokeColor=None))
        chart.add(
            String(
                plot_left + length + 4,
                middle - 3.5,
                _number(value),
                fontName=FONT,
                fontSize=FONT_SIZE,
                fillColor=INK,
            )
        )
    return chart


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def step_chart(
    points: Sequence[tuple[Number, Number, Number | None, Number | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    line_label: str = "",
    band_label: str = "",
    description: str = "",
    width: float = WIDTH,
    height: float = 300,
) -> Chart:
    """A step line of a share over time (a Kaplan-Meier survival curve): ``points`` are
    (t, s, lower, upper) with s, lower and upper from 0 to 1; the curve holds each s until the
    next t. Where lower and upper are given, the confidence band is shaded behind the line."""
    ordered = sorted((float(t), float(s), lo, up) for t, s, lo, up in points)
    if not description:
        if ordered:
            first, last = ordered[0], ordered[-1]
            description = _(
                "%(y)s by %(x)s: %(start)s at %(t0)s, %(end)s at %(t1)s "
                "(%(n)d steps; the table gives each value)."
            ) % {
                "y": y_label,
                "x": x_label,
                "start": _percent(first[1]),
                "t0": _number(first[0]),
                "end": _percent(last[1]),
                "t1": _number(last[0]),
                "n": len(ordered),
            }
        else:
            description = _("No data.")
    chart = Chart(width, height, title=title, description=description)
    if not ordered:
        chart.add(String(8, height / 2, _("No data."), fontName=FONT, fontSize=FONT_SIZE))
        return chart
    legend = bool(line_label or band_label)
    left, right, top = 52.0, 16.0, 10.0
    bottom = 62.0 if legend else 44.0
    plot_w, plot_h = width - left - right, height - top - bottom
    t_max = max(t for t, _s, _lo, _up in ordered)
    step = nice_step(t_max)
    x_max = step * max(1, math.ceil(t_max / step))

    def x_of(t: float) -> float:
        return left + t / x_max * plot_w

    def y_of(share: float) -> float:
        return bottom + max(0.0, min(1.0, share)) * plot_h

    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y_of(share)
        chart.add(Line(left, y, width - right, y, strokeColor=GRID, strokeWidth=0.5))
        chart.add(
            String(
                left - 6,
                y - 3.5,
                _percent(share),
                fontName=FONT,
                fontSize=FONT_SIZE - 1,
                fillColor=MUTED,
                textAnchor="end",
            )
        )
    tick = 0.0
    while tick <= x_max + 1e-9:
        chart.add(
            String(
                x_of(tick),
                bottom - 14,
                _number(int(tick) if tick.is_integer() else tick),
                fontName=FONT,
                fontSize=FONT_SIZE - 1,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
        tick += step
    chart.add(Line(left, bottom, width - right, bottom, strokeColor=INK, strokeWidth=1))
    chart.add(Line(left, bottom, left, height - top, strokeColor=INK, strokeWidth=1))
    chart.add(
        String(
            left + plot_w / 2,
            bottom - 30,
            x_label,
            fontName=FONT,
            fontSize=FONT_SIZE,
            fillColor=INK,
            textAnchor="middle",
        )
    )
    y_axis_label = String(0, 0, y_label, fontName=FONT, fontSize=FONT_SIZE, fillColor=INK)
    y_axis_label.textAnchor = "middle"
    rotated = Group(y_axis_label)
    rotated.transform = (0, 1, -1, 0, 12, bottom + plot_h / 2)
    chart.add(rotated)
    # The band: each step from lower to upper until the next time; consecutive steps with both
    # bounds make one polygon (a rectangle per step made hundreds of SVG elements for a large
    # program, a fifth of a second of the dashboard page).
    runs: list[list[tuple[float, float, float, float]]] = [[]]
    for (t, _s, lower, upper), (t_next, *_rest) in zip(ordered, ordered[1:], strict=False):
        if lower is None or upper is None:
            runs.append([])
            continue
        runs[-1].append((x_of(t), x_of(t_next), y_of(float(lower)), y_of(float(upper))))
    for run in filter(None, runs):
        upper_edge = [v for x0, x1, _low, high in run for v in (x0, high, x1, high)]
        lower_edge = [v for x0, x1, low, _high in reversed(run) for v in (x1, low, x0, low)]
        chart.add(Polygon(upper_edge + lower_edge, fillColor=BAND, strokeColor=None))
    path: list[float] = []
    for index, (t, share, _lo, _up) in enumerate(ordered):
        if index:
            path += [x_of(t), path[-1]]
        path += [x_of(t), y_of(share)]
    chart.add(PolyLine(path, strokeColor=BAR, strokeWidth=2, strokeLineJoin=0))
    if legend:
        x = left
        if line_label:
            chart.add(Line(x, 12, x + 18, 12, strokeColor=BAR, strokeWidth=2))
            chart.add(String(x + 24, 8.5, line_label, fontName=FONT, fontSize=FONT_SIZE - 1))
            x += 24 + _text_width(line_label, size=FONT_SIZE - 1) + 20
        if band_label:
            chart.add(Rect(x, 7, 18, 10, fillColor=BAND, strokeColor=None))
            chart.add(String(x + 24, 8.5, band_label, fontName=FONT, fontSize=FONT_SIZE - 1))
    return chart
