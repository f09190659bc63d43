"""Small cells are hidden, and no hidden count can be worked out from the published table by
adding and subtracting rows, columns and totals (checked independently, through the null
space of the table's equations)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space

from safeharbor.outcomes.suppression import Published, suppress, suppress_counts


def _entries(p: Published) -> dict[tuple, int | None]:
    values: dict[tuple, int | None] = {
        ("cell", r, c): p.cells[(r, c)] for r in p.rows for c in p.cols
    }
    values |= {("row", r): p.row_totals[r] for r in p.rows}
    values |= {("col", c): p.col_totals[c] for c in p.cols}
    values[("total",)] = p.total
    return values


def recoverable(p: Published) -> list[tuple]:
    """Hidden entries whose value every solution of the table's equations agrees on."""
    values = _entries(p)
    hidden = [e for e, v in values.items() if v is None]
    if not hidden:
        return []
    index = {e: i for i, e in enumerate(hidden)}
    equations = []
    for r in p.rows:
        equations.append({("cell", r, c): 1 for c in p.cols} | {("row", r): -1})
    for c in p.cols:
        equations.append({("cell", r, c): 1 for r in p.rows} | {("col", c): -1})
    equations.append({("row", r): 1 for r in p.rows} | {("total",): -1})
    equations.append({("col", c): 1 for c in p.cols} | {("total",): -1})
    matrix = np.zeros((len(equations), len(hidden)))
    for row, equation in enumerate(equations):
        for entry, coefficient in equation.items():
            if entry in index:
                matrix[row, index[entry]] = coefficient
    free = null_space(matrix)
    return [e for e, i in index.items() if free.size == 0 or np.allclose(free[i], 0)]


tables = st.integers(min_value=1, max_value=5).flatmap(
    lambda rows: st.integers(min_value=1, max_value=4).flatmap(
        lambda cols: st.lists(
            st.lists(
                st.one_of(st.integers(0, 12), st.integers(0, 80)),
                min_size=cols,
                max_size=cols,
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_small_count_is_published_and_none_can_be_recovered(grid: list[list[int]]) -> None:
    rows = [f"r{i}" for i in range(len(grid))]
    cols = [f"c{j}" for j in range(len(grid[0]))]
    counts = {(rows[i], cols[j]): v for i, line in enumerate(grid) for j, v in enumerate(line)}
    published = suppress(rows, cols, counts)
    for value in _entries(published).values():
        assert value is None or value == 0 or value >= 11
    assert recoverable(published) == []
    # What is published is true.
    for (r, c), value in published.cells.items():
        assert value is None or value == counts[(r, c)]


def test_a_worked_example() -> None:
    counts = {("a", "x"): 3, ("a", "y"): 40, ("b", "x"): 25, ("b", "y"): 30}
    counts |= {("c", "x"): 50, ("c", "y"): 12}
    published = suppress(["a", "b", "c"], ["x", "y"], counts)
    assert published.cell("a", "x") is None  # 3: primary
    # Row a and column x each need a second hidden cell, and then their partners too.
    assert published.cell("a", "y") is None
    assert published.cell("b", "x") is None
    assert published.cell("b", "y") is None
    assert published.cell("c", "x") == 50
    assert published.total == 160
    assert recoverable(published) == []


def test_zero_is_published_and_nothing_small_is_needed_for_large_counts() -> None:
    published = suppress_counts({"girls": 30, "boys": 14, "non-binary": 0})
    assert published.cells == {
        ("girls", "count"): 30,
        ("boys", "count"): 14,
        ("non-binary", "count"): 0,
    }
    assert published.suppressed == 0


def test_a_single_small_group_takes_another_with_it() -> None:
    published = suppress_counts({"girls": 30, "boys": 4, "non-binary": 0, "another": 20})
    assert published.cell("boys", "count") is None
    assert published.cell("another", "count") is None  # else 54 - 30 - 0 - 20 = 4
    assert published.total == 54


def test_the_threshold_is_a_setting(settings) -> None:  # noqa: ANN001
    settings.SAFEHARBOR_SMALL_CELL = 5
    assert suppress_counts({"a": 6, "b": 30}).suppressed == 0
    assert suppress_counts({"a": 4, "b": 30}).cell("a", "count") is None
