"""``LocalDate`` gives exactly ``TruncDate``'s date for every timestamp: around each daylight
saving transition, at the transition itself and a microsecond before it, outside the span that
SQLite converts natively, and in zones with odd offsets."""

from __future__ import annotations

import datetime
import random
import zoneinfo

import pytest
from django.db import connection
from django.db.models import DateTimeField, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from safeharbor.outcomes.localdate import LocalDate, offsets_between
from safeharbor.outcomes.models import OutcomeMeasure

pytestmark = pytest.mark.django_db

PERIOD = (datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
UTC = datetime.UTC
ZONES = ("America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/Dublin", "UTC")
BATCH = 60  # expressions per query


def _instants(tzname: str) -> list[datetime.datetime]:
    """Every transition from 2017 to 2029 (inside the native span), the instant itself, a
    microsecond and a second before it, an hour either side, and random instants from 1990 to
    2040 (mostly outside it)."""
    zone = zoneinfo.ZoneInfo(tzname)
    moments: list[datetime.datetime] = []
    hour = datetime.datetime(2017, 1, 1, tzinfo=UTC)
    while hour < datetime.datetime(2030, 1, 1, tzinfo=UTC):
        following = hour + datetime.timedelta(hours=1)
        if hour.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            moments.append(following)  # transitions fall on the hour or half hour in these zones
            moments.append(hour + datetime.timedelta(minutes=30))
        hour = following
    edges = []
    for moment in moments:
        edges += [
            moment,
            moment - datetime.timedelta(microseconds=1),
            moment - datetime.timedelta(seconds=1),
            moment - datetime.timedelta(hours=1),
            moment + datetime.timedelta(hours=1, microseconds=500_000),
        ]
    rng = random.Random(f"localdate {tzname}")
    low = datetime.datetime(1990, 1, 1, tzinfo=UTC).timestamp()
    high = datetime.datetime(2040, 1, 1, tzinfo=UTC).timestamp()
    edges += [
        datetime.datetime.fromtimestamp(rng.uniform(low, high), tz=UTC).replace(
            microsecond=rng.choice([0, rng.randrange(1_000_000)])
        )
        for _ in range(300)
    ]
    # Local midnights and the instants just before them, where the date changes.
    for day in range(0, 365 * 2, 7):
        midnight = datetime.datetime.combine(
            datetime.date(2024, 6, 1) + datetime.timedelta(days=day), datetime.time.min, zone
        )
        edges += [midnight, midnight - datetime.timedelta(microseconds=1)]
    return edges


def _dates(expressions: list[TruncDate]) -> list[datetime.date]:
    found: list[datetime.date] = []
    for first in range(0, len(expressions), BATCH):
        batch = expressions[first : first + BATCH]
        names = {f"d{i}": expression for i, expression in enumerate(batch)}
        row = OutcomeMeasure.objects.annotate(**names).values_list(*names)[:1].get()
        found += row
    return found


@pytest.mark.parametrize("tzname", ZONES)
def test_the_same_date_as_truncdate_and_as_python(tzname: str) -> None:
    instants = _instants(tzname)
    with timezone.override(zoneinfo.ZoneInfo(tzname)):
        values = [Value(moment, output_field=DateTimeField()) for moment in instants]
        local = _dates([LocalDate(value, near=PERIOD) for value in values])
        django = _dates([TruncDate(value) for value in values])
        python = [timezone.localdate(moment) for moment in instants]
    mismatches = [
        (moment, mine, theirs, expected)
        for moment, mine, theirs, expected in zip(instants, local, django, python, strict=True)
        if not mine == theirs == expected
    ]
    assert mismatches == []


def test_sqlite_computes_it_natively_within_the_span() -> None:
    value = Value(datetime.datetime(2025, 3, 9, 10, tzinfo=UTC), output_field=DateTimeField())
    query = str(OutcomeMeasure.objects.annotate(day=LocalDate(value, near=PERIOD)).query)
    if connection.vendor == "sqlite":
        assert "date(" in query  # SQLite's own function, where the span covers the value
        assert "django_datetime_cast_date" in query  # only for values outside it
    else:
        assert "AT TIME ZONE" in query


def test_the_offsets_of_a_zone_change_at_its_transitions() -> None:
    steps = offsets_between(
        "America/Los_Angeles", datetime.date(2025, 1, 1), datetime.date(2026, 1, 1)
    )
    assert steps == (
        ("2025-01-01 00:00:00", -8 * 3600),
        ("2025-03-09 10:00:00", -7 * 3600),  # 2:00 standard time becomes 3:00 daylight time
        ("2025-11-02 09:00:00", -8 * 3600),  # 2:00 daylight time becomes 1:00 standard time
        ("2026-01-01 00:00:00", 0),  # the end of the span
    )
    assert offsets_between("UTC", datetime.date(2025, 1, 1), datetime.date(2026, 1, 1)) == (
        ("2025-01-01 00:00:00", 0),
        ("2026-01-01 00:00:00", 0),
    )
