"""How a figure reads on a page: a share as a percent, days, a rate per youth-year, a change
with its sign; "—" where there is nothing to show (never a made-up 0)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .effectiveness import Figure, Unit

NOTHING = "—"


def _number(value: float, places: int = 1) -> str:
    return str(number_format(round(value, places), places))


def _in_unit(value: float | None, unit: str) -> str:
    if value is None:
        return NOTHING
    if unit == Unit.PROPORTION:
        return f"{_number(value * 100)} %"
    if unit == Unit.DAYS:
        return _("%(n)s days") % {"n": _number(value)}
    if unit == Unit.PER_YOUTH_YEAR:
        return _("%(n)s per youth-year") % {"n": _number(value, 2)}
    if unit == Unit.RATIO:
        return f"× {_number(value, 2)}"
    sign = "+" if value > 0 else ""
    return f"{sign}{_number(value, 2)}"


@dataclass(frozen=True)
class FigureRow:
    figure: Figure
    value: str
    interval: str


def figure_row(figure: Figure) -> FigureRow:
    interval = ""
    if figure.ci_low is not None and figure.ci_high is not None:
        interval = _("%(low)s to %(high)s") % {
            "low": _in_unit(figure.ci_low, figure.unit),
            "high": _in_unit(figure.ci_high, figure.unit),
        }
    return FigureRow(figure, _in_unit(figure.value, figure.unit), interval)
