"""The findings report's participants × codes heat map, drawn with the shared chart machinery
(``safeharbor.core.charts``): one row per code, with a swatch of its colour, one column per
participant; each cell is shaded in its code's colour (darker for more segments) and carries
its number in black or white, whichever contrasts more, so it reads without colour too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.graphics.shapes import Group, Line, Rect, String
from reportlab.lib.colors import HexColor

from safeharbor.core.charts import FONT, FONT_SIZE, GRID, INK, MUTED, WIDTH, Chart, text_width

if TYPE_CHECKING:
    from .findings import HeatMap

ROW = 15.0
SWATCH = 8.0
INDENT = 8.0
MAX_CELL = 34.0
SIZE = FONT_SIZE - 1


def _fit(text: str, width: float, size: float = SIZE) -> str:
    """The text, cut with an ellipsis where it is wider than ``width`` points."""
    if text_width(text, FONT, size) <= width:
        return text
    while text and text_width(text + "…", FONT, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def heat_map_chart(block: HeatMap, *, width: float = WIDTH) -> Chart:
    rows, columns = block.rows, block.columns
    label_room = max(
        (INDENT * row.depth + SWATCH + 6 + text_width(row.label, FONT, SIZE) for row in rows),
        default=60.0,
    )
    label_width = min(label_room + 8, width * 0.4)
    cell = min(MAX_CELL, (width - label_width) / max(len(columns), 1))
    widest = max((text_width(c, FONT, SIZE) for c in columns), default=0.0)
    turned = widest > cell - 4  # participant codes too wide for a column stand upright
    header = min(widest, 90.0) + 10 if turned else ROW + 4
    height = header + ROW * len(rows) + 2
    chart = Chart(
        label_width + cell * len(columns) + 2,
        height,
        title=block.title,
        description=block.description,
    )
    chart.add(
        String(0, height - header + 5, block.corner, fontName="Helvetica-Bold", fontSize=SIZE)
    )
    for index, code in enumerate(columns):
        x = label_width + cell * index + cell / 2
        if turned:
            text = String(0, 0, _fit(code, 90.0), fontName=FONT, fontSize=SIZE, fillColor=INK)
            upright = Group(text)
            upright.transform = (0, 1, -1, 0, x + SIZE / 3, height - header + 4)
            chart.add(upright)
        else:
            chart.add(
                String(
                    x,
                    height - header + 5,
                    code,
                    fontName=FONT,
                    fontSize=SIZE,
                    fillColor=INK,
                    textAnchor="middle",
                )
            )
    for number, row in enumerate(rows):
        top = height - header - ROW * number
        y = top - ROW
        x = INDENT * row.depth
        chart.add(
            Rect(
                x,
                y + (ROW - SWATCH) / 2,
                SWATCH,
                SWATCH,
                fillColor=HexColor(row.colour),
                strokeColor=MUTED,
                strokeWidth=0.5,
            )
        )
        chart.add(
            String(
                x + SWATCH + 4,
                y + 4,
                _fit(row.label, label_width - x - SWATCH - 8),
                fontName=FONT,
                fontSize=SIZE,
                fillColor=INK,
            )
        )
        for index, count in enumerate(row.counts):
            left = label_width + cell * index
            chart.add(
                Rect(
                    left,
                    y,
                    cell,
                    ROW,
                    fillColor=HexColor(row.fill(index)),
                    strokeColor=GRID,
                    strokeWidth=0.5,
                )
            )
            chart.add(
                String(
                    left + cell / 2,
                    y + 4,
                    str(count),
                    fontName=FONT,
                    fontSize=SIZE,
                    fillColor=HexColor(row.ink(index)) if count else MUTED,
                    textAnchor="middle",
                )
            )
    chart.add(Line(label_width, 1, label_width, height - header, strokeColor=INK, strokeWidth=0.8))
    return chart
