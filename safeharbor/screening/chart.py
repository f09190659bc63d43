"""A small chart of a youth's screening levels over time, drawn as SVG on the server.

No JavaScript: the template writes the ``<svg>`` from the coordinates computed here. The chart is
an image with a text alternative; the timeline table next to it carries the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext as _

from .choices import LEVEL_RANK, ConcernLevel

MAX_POINTS = 12
WIDTH = 300
HEIGHT = 150
LEFT = 140
RIGHT = 12
TOP = 12
BOTTOM = 24
ROW_HEIGHT = (HEIGHT - TOP - BOTTOM) / 3


class _Completed(Protocol):
    @property
    def level(self) -> str: ...

    @property
    def completed_at(self) -> object: ...


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    level: str
    label: str
    date: str


@dataclass(frozen=True)
class Row:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    points: list[Point]
    rows: list[Row]
    description: str

    @property
    def left(self) -> int:
        return LEFT

    @property
    def right(self) -> int:
        return self.width - RIGHT

    @property
    def label_x(self) -> int:
        return LEFT - 8

    @property
    def date_y(self) -> int:
        return self.height - 6

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _y(level: str) -> float:
    rank = LEVEL_RANK[ConcernLevel(level)]
    return TOP + (3 - rank) * ROW_HEIGHT


def level_chart(screenings: list[_Completed]) -> Chart | None:
    """The last ``MAX_POINTS`` completed screenings, oldest first; None when there are none."""
    recent = list(screenings)[-MAX_POINTS:]
    if not recent:
        return None
    span = WIDTH - LEFT - RIGHT
    step = span / (len(recent) - 1) if len(recent) > 1 else 0
    points = []
    for index, screening in enumerate(recent):
        completed = screening.completed_at
        date = completed.strftime("%Y-%m-%d") if hasattr(completed, "strftime") else ""
        level = screening.level
        points.append(
            Point(
                x=LEFT + (index * step if len(recent) > 1 else span / 2),
                y=_y(level),
                level=level,
                label=str(ConcernLevel(level).label),
                date=date,
            )
        )
    rows = [Row(y=_y(level.value), label=str(level.label)) for level in ConcernLevel]
    description = _("Screening levels over time, oldest first: %(points)s.") % {
        "points": "; ".join(f"{p.date} {p.label}" for p in points)
    }
    return Chart(width=WIDTH, height=HEIGHT, points=points, rows=rows, description=description)
