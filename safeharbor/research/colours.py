"""Code colours: a colour-blind-safe palette, and the text colour that reads on each.

The palette is Okabe & Ito's (2008), distinguishable with the common colour-vision
deficiencies. Text on a code colour is black or white, whichever has the higher WCAG 2.2
contrast ratio (at least 4.5:1 for every colour in the palette).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

OKABE_ITO: list[tuple[str, Any]] = [
    ("#E69F00", _("Orange")),
    ("#56B4E9", _("Sky blue")),
    ("#009E73", _("Bluish green")),
    ("#F0E442", _("Yellow")),
    ("#0072B2", _("Blue")),
    ("#D55E00", _("Vermilion")),
    ("#CC79A7", _("Reddish purple")),
    ("#000000", _("Black")),
]


def normalise_hex(value: str) -> str:
    """'#abc' or 'abc' or '#aabbcc' -> '#AABBCC'; ValueError otherwise."""
    text = value.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    if len(text) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in text):
        raise ValueError(f"not a hex colour: {value!r}")
    return "#" + text.upper()


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    hex6 = normalise_hex(colour)[1:]
    r, g, b = (int(hex6[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = relative_luminance(a), relative_luminance(b)
    light, dark = max(la, lb), min(la, lb)
    return (light + 0.05) / (dark + 0.05)


def text_colour_for(background: str) -> str:
    """Black or white, whichever contrasts more with the background."""
    on_black = contrast_ratio(background, "#000000")
    on_white = contrast_ratio(background, "#FFFFFF")
    return "#000000" if on_black >= on_white else "#FFFFFF"


def palette_colour(index: int) -> str:
    return OKABE_ITO[index % len(OKABE_ITO)][0]


def heat_level(value: int, maximum: int, levels: int = 5) -> int:
    """0 for nothing, else 1..levels in proportion to the maximum (for the heat-map classes)."""
    if value <= 0 or maximum <= 0:
        return 0
    return max(1, min(levels, round(levels * value / maximum)))


def shade(colour: str, level: int, levels: int = 5) -> str:
    """The colour mixed with white in proportion to ``level`` (0 is white, ``levels`` the
    colour itself): a code's heat-map cells in reports, darker for more segments."""
    if level <= 0:
        return "#FFFFFF"
    hex6 = normalise_hex(colour)[1:]
    fraction = min(level, levels) / levels
    channels = (round(255 + (int(hex6[i : i + 2], 16) - 255) * fraction) for i in (0, 2, 4))
    return "#" + "".join(f"{c:02X}" for c in channels)
