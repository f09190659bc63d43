"""Server-drawn charts: a suppressed bar is the word, never a zero bar; the step line steps;
the SVG for pages is titled, described, free of inline styles and escaped; the palette reads."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from defusedxml import ElementTree
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Group, PolyLine, Rect, String
from reportlab.lib import colors

from safeharbor.outcomes import charts

SVG = "{http://www.w3.org/2000/svg}"


def _flatten(node: Drawing | Group) -> list[object]:
    found: list[object] = []
    for item in node.contents:
        found.append(item)
        if isinstance(item, Group):
            found += _flatten(item)
    return found


def _texts(drawing: Drawing) -> list[str]:
    return [item.text for item in _flatten(drawing) if isinstance(item, String)]


def _bars(drawing: Drawing) -> list[Rect]:
    return [item for item in _flatten(drawing) if isinstance(item, Rect)]


def test_a_suppressed_count_is_the_word_not_a_bar() -> None:
    chart = charts.bar_chart(
        [("Girl / young woman", 12), ("Boy / young man", None), ("Non-binary", 0)],
        title="Gender identity",
    )
    assert isinstance(chart, Drawing)
    assert chart.chart_title == "Gender identity"
    assert chart.chart_description == (
        "Girl / young woman: 12; Boy / young man: suppressed; Non-binary: 0."
    )
    texts = _texts(chart)
    assert "suppressed" in texts
    assert {"12", "0"} <= set(texts)
    bars = _bars(chart)
    assert len(bars) == 1  # 12 only: no bar for the suppressed count, none of length 0
    assert bars[0].fillColor == charts.BAR


def test_bars_are_to_scale_and_hours_keep_their_decimal() -> None:
    chart = charts.bar_chart([("a", 10), ("b", 5), ("c", Decimal("2.5"))], title="Hours")
    widths = [bar.width for bar in _bars(chart)]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert widths[1] == pytest.approx(2 * widths[2])
    assert "2.5" in _texts(chart)


def test_count_axes_tick_at_whole_numbers() -> None:
    ticks = _texts(charts.bar_chart([("a", 2), ("b", 1)], title="t"))
    assert "0.5" not in ticks
    assert charts.nice_step(2) == pytest.approx(0.5)
    assert charts.nice_step(1234) == 500
    assert charts.nice_step(0) == 1


def test_a_long_label_wraps_to_two_lines_and_no_data_says_so() -> None:
    label = "Closed otherwise (declined, cancelled, could not be carried out) " * 3
    texts = _texts(charts.bar_chart([(label, 3)], title="Referrals"))
    lines = [t for t in texts if t not in {"3", "0", "1", "2"}]
    assert len(lines) == 2
    assert lines[1].endswith("…")
    empty = charts.bar_chart([], title="Nothing")
    assert empty.chart_description == "No data."
    assert "No data." in _texts(empty)


def test_the_step_line_holds_each_value_until_the_next_time() -> None:
    points = [(0, 1.0, 1.0, 1.0), (30, 0.8, 0.6, 0.95), (90, 0.5, None, None), (120, 0.4, 0.2, 0.6)]
    chart = charts.step_chart(
        points,
        title="Still engaged",
        x_label="Days since enrolment",
        y_label="Share still engaged",
        line_label="Still engaged",
        band_label="95% confidence interval",
    )
    line = next(item for item in _flatten(chart) if isinstance(item, PolyLine))
    xy = list(zip(line.points[::2], line.points[1::2], strict=True))
    assert len(xy) == 2 * len(points) - 1
    for (x0, y0), (x1, y1) in zip(xy, xy[1:], strict=False):
        assert x0 == x1 or y0 == y1  # horizontal or vertical: a step, never a slope
    assert [y for _x, y in xy[::2]] == sorted((y for _x, y in xy[::2]), reverse=True)
    band = [bar for bar in _bars(chart) if bar.fillColor == charts.BAND]
    assert len(band) == 2 + 1  # the intervals with both bounds, and the legend's swatch
    assert "Share still engaged by Days since enrolment: 100% at 0" in chart.chart_description
    assert "40% at 120" in chart.chart_description
    assert {"0%", "50%", "100%", "95% confidence interval"} <= set(_texts(chart))


def test_the_step_chart_without_points() -> None:
    chart = charts.step_chart([], title="t", x_label="x", y_label="y")
    assert chart.chart_description == "No data."


def test_the_svg_is_titled_described_escaped_and_styled_by_attributes() -> None:
    chart = charts.bar_chart([("<script>alert(1)</script> & co", 4), ("b", None)], title="A & B")
    svg = charts.to_svg(chart)
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    labelled = root.get("aria-labelledby", "").split()
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert labelled == [title.get("id"), desc.get("id")]
    assert title.text == "A & B"
    assert desc.text == "<script>alert(1)</script> & co: 4; b: suppressed."
    assert "<script>" not in svg
    assert " style=" not in svg  # the Content Security Policy forbids inline styles
    assert "<?xml" not in svg
    assert "DOCTYPE" not in svg
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {int(chart.height)}"
    assert root.get("width") == "100%"
    italic = [t for t in root.iter(f"{SVG}text") if t.text == "suppressed"]
    assert italic[0].get("font-style") == "italic"
    assert "sans-serif" in italic[0].get("font-family", "")
    ids = re.findall(r'id="([^"]+)"', svg)
    assert len(ids) == len(set(ids)) == 2  # no ReportLab "clip"/"group" ids to collide


def test_two_charts_on_a_page_have_their_own_ids() -> None:
    first = charts.to_svg(charts.bar_chart([("a", 1)], title="One"))
    second = charts.to_svg(charts.bar_chart([("a", 1)], title="One"))
    assert set(re.findall(r'id="([^"]+)"', first)).isdisjoint(re.findall(r'id="([^"]+)"', second))


def test_a_chart_draws_into_a_pdf() -> None:
    body = renderPDF.drawToString(charts.bar_chart([("a", 3), ("b", None)], title="t"))
    assert body.startswith(b"%PDF")


def _luminance(colour: colors.Color) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.red)
        + 0.7152 * channel(colour.green)
        + 0.0722 * channel(colour.blue)
    )


def _contrast(colour: colors.Color) -> float:
    return (1.0 + 0.05) / (_luminance(colour) + 0.05)  # against white


def test_the_palette_passes_wcag_aa_on_white() -> None:
    assert _contrast(charts.INK) >= 7  # text
    assert _contrast(charts.MUTED) >= 4.5  # "suppressed" and tick labels
    assert _contrast(charts.BAR) >= 3  # a graphic object
