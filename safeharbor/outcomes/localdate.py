"""``LocalDate``: the date of a timestamp in the deployment's time zone, as ``TruncDate`` gives
it, computed by SQLite itself.

Django's ``TruncDate`` on SQLite calls a Python function for every row (it parses the stored
text and converts it with ``zoneinfo``): about 8 microseconds a row, over a second for the
150,000 contact attempts of a large program's year. PostgreSQL converts natively
(``AT TIME ZONE``), and ``LocalDate`` is plain ``TruncDate`` there.

On SQLite a timestamp is stored as UTC text (``2025-03-09 10:00:00[.ffffff]``), and the time
zone's offset from UTC only changes at its transitions (daylight saving time). Around the
period asked about, ``LocalDate`` looks up the offset in effect with comparisons of that text
against the transition instants (a balanced tree of ``CASE``, a handful of comparisons a row)
and shifts the value's whole seconds with SQLite's ``date(value, '±N seconds')``. A value
outside that span, or any value when the connection does not store UTC, goes to Django's own
function as before: the answer is the same for every value, only the speed differs
(``tests/test_localdate.py`` compares the two around every transition).
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from typing import Any

from django.db.models import Expression
from django.db.models.functions import TruncDate

# The span around the period that SQLite converts natively: far enough back for the screenings
# and missing episodes that are compared with enrolments started before the period.
YEARS_BEFORE = 6
YEARS_AFTER = 2
_DAY = datetime.timedelta(days=1)
_SECOND = datetime.timedelta(seconds=1)


def _stored(moment: datetime.datetime) -> str:
    """A UTC instant as Django stores it in SQLite (``str`` of the naive UTC datetime)."""
    return str(moment.astimezone(datetime.UTC).replace(tzinfo=None))


def _offset(zone: zoneinfo.ZoneInfo, moment: datetime.datetime) -> datetime.timedelta:
    offset = moment.astimezone(zone).utcoffset()
    if offset is None:  # never for a ZoneInfo; said for the type checker
        raise ValueError(f"{zone} has no UTC offset")
    return offset


@functools.lru_cache(maxsize=64)
def offsets_between(
    tzname: str, first: datetime.date, last: datetime.date
) -> tuple[tuple[str, int], ...]:
    """The zone's UTC offsets from ``first`` to ``last`` (UTC days) as ``(from, seconds)``: each
    offset applies from its instant (stored text) to the next one's; the last entry, with no
    offset (``0``), is the end of the span. Transitions are found day by day, then to the
    second by bisection (every zone's transitions fall on whole seconds)."""
    zone = zoneinfo.ZoneInfo(tzname)
    begin = datetime.datetime.combine(first, datetime.time.min, tzinfo=datetime.UTC)
    end = datetime.datetime.combine(last, datetime.time.min, tzinfo=datetime.UTC)
    steps = [(_stored(begin), int(_offset(zone, begin).total_seconds()))]
    day = begin
    while day < end:
        following = min(day + _DAY, end)
        if _offset(zone, following) != _offset(zone, day):
            low, high = day, following  # offset(low) differs from offset(high)
            while high - low > _SECOND:
                middle = low + (high - low) // 2
                middle = middle.replace(microsecond=0)
                if _offset(zone, middle) == _offset(zone, low):
                    low = middle
                else:
                    high = middle
            steps.append((_stored(high), int(_offset(zone, high).total_seconds())))
        day = following
    steps.append((_stored(end), 0))
    return tuple(steps)


class LocalDate(TruncDate):
    """``TruncDate(expression)`` that SQLite computes natively for values from ``YEARS_BEFORE``
    years before ``near[0]`` to ``YEARS_AFTER`` years after ``near[1]`` (exactly the same dates)."""

    def __init__(
        self, expression: Any, *, near: tuple[datetime.date, datetime.date], **extra: Any
    ) -> None:
        super().__init__(expression, **extra)
        first, last = near
        self.span = (
            first.replace(year=first.year - YEARS_BEFORE, day=1),
            last.replace(year=last.year + YEARS_AFTER, day=1),
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.lhs)
        tzname = self.get_tzname()
        fallback, fallback_params = connection.ops.datetime_cast_date_sql(
            sql, tuple(params), tzname
        )
        if tzname is None or connection.timezone_name != "UTC":
            return fallback, fallback_params
        try:
            steps = offsets_between(tzname, *self.span)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # "+03:00"-style names
            return fallback, fallback_params

        def tree(low: int, high: int) -> tuple[str, list[Any]]:
            """The date for a value known to lie in steps[low][0] .. steps[high][0]."""
            if high - low == 1:
                # Whole seconds only: SQLite rounds a fraction to the millisecond, which would
                # carry 23:59:59.9996 over to the next day (offsets are whole seconds).
                shift = f"{steps[low][1]:+d} seconds"
                return f"date(substr({sql}, 1, 19), %s)", [*params, shift]
            middle = (low + high) // 2
            left, left_params = tree(low, middle)
            right, right_params = tree(middle, high)
            return (
                f"CASE WHEN {sql} < %s THEN {left} ELSE {right} END",
                [*params, steps[middle][0], *left_params, *right_params],
            )

        inside, inside_params = tree(0, len(steps) - 1)
        return (
            f"CASE WHEN {sql} >= %s AND {sql} < %s THEN {inside} ELSE {fallback} END",
            (
                *params,
                steps[0][0],
                *params,
                steps[-1][0],
                *inside_params,
                *fallback_params,
            ),
        )


def local_date(expression: str | Expression, start: datetime.date, end: datetime.date) -> LocalDate:
    """``LocalDate`` for figures of the period ``start`` .. ``end``."""
    return LocalDate(expression, near=(start, end))
