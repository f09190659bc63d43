"""Server-drawn charts: a suppressed bar is the word, never a zero bar; the step line steps;
the SVG for pages is titled, described, free of inline styles and escaped; the palette reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from defusedxml import ElementTree
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Group, Polygon, PolyLine, Rect, String
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


def _band(drawing: Drawing) -> list[list[float]]:
    """The band's shapes, each as its flat list of x, y coordinates."""
    return [list(item.points) for item in _flatten(drawing) if isinstance(item, Polygon)]


def _scales(
    drawing: Drawing, points: list[tuple[float, float, float | None, float | None]]
) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """Days and shares to drawing coordinates, from the step line's corner at each point."""
    line = next(item for item in _flatten(drawing) if isinstance(item, PolyLine))
    corners = list(zip(line.points[::2], line.points[1::2], strict=True))[::2]
    (x0, y0), (x1, y1) = corners[0], corners[-1]
    (t0, s0, *_), (t1, s1, *_) = points[0], points[-1]
    return (
        lambda t: x0 + (t - t0) * (x1 - x0) / (t1 - t0),
        lambda s: y0 + (s - s0) * (y1 - y0) / (s1 - s0),
    )


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
    swatch = [bar for bar in _bars(chart) if bar.fillColor == charts.BAND]
    assert len(swatch) == 1  # the legend's
    x, y = _scales(chart, points)
    (band,) = _band(chart)  # the steps from 0 to 90 have both bounds: one shape
    corners = [(0, 1.0), (30, 1.0), (30, 0.95), (90, 0.95), (90, 0.6), (30, 0.6), (30, 1.0)]
    expected = [v for day, share in [*corners, (0, 1.0)] for v in (x(day), y(share))]
    assert band == pytest.approx(expected)
    assert "Share still engaged by Days since enrolment: 100% at 0" in chart.chart_description
    assert "40% at 120" in chart.chart_description
    assert {"0%", "50%", "100%", "95% confidence interval"} <= set(_texts(chart))


def test_the_band_leaves_a_gap_where_the_interval_is_undefined() -> None:
    points: list[tuple[float, float, float | None, float | None]] = [
        (0, 1.0, 1.0, 1.0),
        *((day, 1 - day / 1000, 1 - day / 800, 1 - day / 1200) for day in range(10, 300, 10)),
        (300, 0.7, None, None),
        (320, 0.68, 0.6, 0.75),
        (340, 0.66, 0.58, 0.74),
        (360, 0.6, 0.5, 0.7),
    ]
    chart = charts.step_chart(points, title="t", x_label="x", y_label="y")
    x, y = _scales(chart, points)
    # 32 steps with an interval, in two runs: two shapes, not 32.
    first, second = _band(chart)
    assert (first[0], first[len(first) // 2 - 2]) == pytest.approx((x(0), x(300)))
    # Top edge left to right (each step's upper bound held until the next time), then the
    # bottom edge back.
    corners = [
        *((320, 0.75), (340, 0.75), (340, 0.74), (360, 0.74)),
        *((360, 0.58), (340, 0.58), (340, 0.6), (320, 0.6)),
    ]
    assert second == pytest.approx([v for day, share in corners for v in (x(day), y(share))])


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
