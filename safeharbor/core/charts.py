"""Charts drawn on the server with ReportLab's graphics, shared by the apps that draw them
(outcomes' reports, the research findings): one Drawing serves a page (as inline SVG, through
``to_svg``) and a PDF (as a flowable), so both show the same picture.

Accessible by construction: each chart carries a title and a text description (the SVG's
``<title>``/``<desc>``, referenced by ``aria-labelledby``), and pages put the same figures in a
table next to it. Colours are Okabe & Ito's colour-blind-safe palette; every text is near-black
or dark grey on white (contrast above 7:1, WCAG AA and AAA), and bars are blue on white (5:1,
above the 3:1 that AA asks of graphics).
"""

from __future__ import annotations

import math
import re
import uuid
from decimal import Decimal
from typing import Any

from defusedxml import minidom
from django.utils.translation import gettext as _
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.attrmap import AttrMap, AttrMapValue
from reportlab.lib.validators import isString
from reportlab.pdfbase.pdfmetrics import stringWidth

INK = colors.HexColor("#1B1B1F")  # text: 16:1 on white
MUTED = colors.HexColor("#4A4A55")  # secondary text ("suppressed", axis ticks): 8.9:1
GRID = colors.HexColor("#C9C9D2")  # decorative lines only
BAR = colors.HexColor("#0072B2")  # Okabe-Ito blue: 5.1:1 on white
BAND = colors.Color(0x56 / 255, 0xB4 / 255, 0xE9 / 255, alpha=0.35)  # Okabe-Ito sky blue, light

FONT = "Helvetica"
FONT_ITALIC = "Helvetica-Oblique"
FONT_SIZE = 10
WIDTH = 560

Number = int | float | Decimal


class Chart(Drawing):
    """A Drawing that knows its title and text description (for ``<title>`` and ``<desc>``)."""

    _attrMap = AttrMap(
        BASE=Drawing,
        chart_title=AttrMapValue(isString, desc="what the chart shows, in a few words"),
        chart_description=AttrMapValue(isString, desc="the chart's data, as a sentence"),
    )

    def __init__(self, width: float, height: float, *, title: str, description: str) -> None:
        super().__init__(width, height)
        self.chart_title = title
        self.chart_description = description


def text_width(text: str, font: str = FONT, size: float = FONT_SIZE) -> float:
    return float(stringWidth(text, font, size))


def wrap(text: str, width: float, lines: int = 2) -> list[str]:
    """Words into at most ``lines`` lines of ``width`` points; an ellipsis ends a cut text."""
    words = text.split()
    result: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if text_width(candidate) <= width or not current:
            current = candidate
            continue
        result.append(current)
        current = word
    if current:
        result.append(current)
    if len(result) <= lines:
        return result
    kept = result[: lines - 1]
    last = " ".join(result[lines - 1 :])
    while last and text_width(last + "…") > width:
        last = last[:-1]
    return [*kept, last.rstrip() + "…"]


def nice_step(maximum: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most ``ticks`` steps."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def number(value: Number) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.1f}".removesuffix(".0")


_STYLE_ITEM = re.compile(r"\s*([a-z-]+)\s*:\s*([^;]+?)\s*(?:;|$)")


def _style_to_attributes(element: Any) -> None:
    """CSP forbids inline ``style`` attributes: move each declaration to its presentation
    attribute (every property ReportLab writes has one)."""
    style = element.getAttribute("style")
    if style:
        element.removeAttribute("style")
        for name, value in _STYLE_ITEM.findall(style):
            if name == "clip-path":
                continue
            if name == "font-family" and value.startswith(FONT):
                # The PDF's built-in Helvetica; a browser picks the nearest sans-serif.
                if value.endswith("Oblique"):
                    element.setAttribute("font-style", "italic")
                if "Bold" in value:
                    element.setAttribute("font-weight", "bold")
                value = "Helvetica, Arial, sans-serif"
            element.setAttribute(name, value)
    for attribute in ("id", "clip"):
        if element.hasAttribute(attribute):
            element.removeAttribute(attribute)
    for child in element.childNodes:
        if child.nodeType == child.ELEMENT_NODE:
            _style_to_attributes(child)


def to_svg(drawing: Drawing) -> str:
    """The drawing as an ``<svg>`` element for a page: titled and described for assistive
    technology, scaled to its container, no inline styles (the Content Security Policy)."""
    raw = renderSVG.drawToString(drawing, useClip=True)
    document = minidom.parseString(raw[raw.index("<svg") :])
    svg = document.documentElement
    if svg is None:  # pragma: no cover - ReportLab always writes an <svg> element
        raise ValueError("ReportLab wrote no <svg> element")
    _style_to_attributes(svg)
    prefix = f"chart-{uuid.uuid4().hex[:10]}"
    title = getattr(drawing, "chart_title", "") or _("Chart")
    description = getattr(drawing, "chart_description", "") or ""
    for tag, text, suffix in (("title", title, "title"), ("desc", description, "desc")):
        element = svg.getElementsByTagName(tag)[0]
        element.setAttribute("id", f"{prefix}-{suffix}")
        for child in list(element.childNodes):
            element.removeChild(child)
        element.appendChild(document.createTextNode(text))
    svg.setAttribute("role", "img")
    svg.setAttribute("aria-labelledby", f"{prefix}-title {prefix}-desc")
    svg.setAttribute("width", "100%")
    svg.removeAttribute("height")
    svg.removeAttribute("version")
    svg.removeAttribute("xmlns:xlink")
    return str(svg.toxml())
