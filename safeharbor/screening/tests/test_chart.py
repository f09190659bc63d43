"""The history chart: coordinates from levels, oldest first, at most twelve points."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from safeharbor.screening.chart import HEIGHT, LEFT, MAX_POINTS, WIDTH, level_chart


@dataclass
class Done:
    level: str
    completed_at: datetime.datetime


def test_no_screening_no_chart():
    assert level_chart([]) is None


def test_levels_map_to_rows_and_time_runs_left_to_right():
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    levels = ["no_concern", "possible_concern", "clear_concern", "not_enough_information"]
    chart = level_chart(
        [Done(level, start + datetime.timedelta(days=30 * i)) for i, level in enumerate(levels)]
    )
    assert chart is not None
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs)
    assert xs[0] == LEFT
    assert xs[-1] == WIDTH - 12
    by_level = {p.level: p.y for p in chart.points}
    assert (
        by_level["clear_concern"]
        < by_level["possible_concern"]
        < by_level["not_enough_information"]
        < by_level["no_concern"]
    )
    assert all(0 < p.y < HEIGHT for p in chart.points)
    assert chart.points[0].date == "2025-01-01"
    assert "2025-01-01 No concern" in chart.description
    assert len(chart.polyline.split()) == 4


def test_only_the_latest_points_are_drawn():
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    done = [Done("no_concern", start + datetime.timedelta(days=i)) for i in range(MAX_POINTS + 5)]
    chart = level_chart(done)
    assert chart is not None
    assert len(chart.points) == MAX_POINTS
    assert chart.points[0].date == "2024-01-06"
