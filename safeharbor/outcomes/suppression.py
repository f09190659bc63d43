"""Small-cell suppression for figures that leave the agency.

A cross-table of counts (rows x columns, with row totals, column totals and a grand total) is
published with every count from 1 to ``threshold - 1`` hidden (primary suppression), and then
enough other cells hidden that no hidden count can be worked out from the published ones by
adding and subtracting along rows, columns and totals (complementary suppression).

"Cannot be worked out" is checked exactly, not by a rule of thumb: the hidden entries are the
unknowns of the table's linear equations (each row, each column and the totals add up); an
unknown is determined when its unit vector lies in the row space of those equations. While one
is, another cell on its row or column is hidden, smallest first. Zeros are published: a zero
says nothing about anyone. Victim-service-provider figures leave only through such tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

# An entry of the table: ("cell", row, col), ("row", row), ("col", col) or ("total",).
Entry = tuple[str, ...]


def threshold() -> int:
    return int(getattr(settings, "SAFEHARBOR_SMALL_CELL", 11))


@dataclass(frozen=True)
class Published:
    """A table ready to leave the agency: ``None`` where a count is suppressed."""

    rows: list[str]
    cols: list[str]
    cells: dict[tuple[str, str], int | None]
    row_totals: dict[str, int | None]
    col_totals: dict[str, int | None]
    total: int | None
    threshold: int

    def cell(self, row: str, col: str) -> int | None:
        return self.cells[(row, col)]

    @property
    def suppressed(self) -> int:
        values = [*self.cells.values(), *self.row_totals.values(), *self.col_totals.values()]
        return sum(v is None for v in [*values, self.total])


class _Table:
    def __init__(
        self, rows: Sequence[str], cols: Sequence[str], counts: Mapping[tuple[str, str], int]
    ) -> None:
        self.rows, self.cols = list(rows), list(cols)
        self.value: dict[Entry, int] = {}
        for r in self.rows:
            for c in self.cols:
                self.value[("cell", r, c)] = int(counts.get((r, c), 0))
        for r in self.rows:
            self.value[("row", r)] = sum(self.value[("cell", r, c)] for c in self.cols)
        for c in self.cols:
            self.value[("col", c)] = sum(self.value[("cell", r, c)] for r in self.rows)
        self.value[("total",)] = sum(self.value[("row", r)] for r in self.rows)
        self.entries: list[Entry] = list(self.value)
        self.lines = self._lines()

    def _lines(self) -> list[list[tuple[Entry, int]]]:
        """Each equation as (entry, coefficient) pairs that sum to zero."""
        total: Entry = ("total",)
        lines: list[list[tuple[Entry, int]]] = []
        for r in self.rows:
            lines.append([(("cell", r, c), 1) for c in self.cols] + [(("row", r), -1)])
        for c in self.cols:
            lines.append([(("cell", r, c), 1) for r in self.rows] + [(("col", c), -1)])
        lines.append([(("row", r), 1) for r in self.rows] + [(total, -1)])
        lines.append([(("col", c), 1) for c in self.cols] + [(total, -1)])
        return lines

    def determined(self, hidden: set[Entry]) -> list[Entry]:
        """The hidden entries that the published ones and the equations pin down."""
        unknowns = [e for e in self.entries if e in hidden]
        if not unknowns:
            return []
        index = {e: i for i, e in enumerate(unknowns)}
        matrix = np.zeros((len(self.lines), len(unknowns)))
        for row, line in enumerate(self.lines):
            for entry, coefficient in line:
                if entry in index:
                    matrix[row, index[entry]] = coefficient
        rank = np.linalg.matrix_rank(matrix)
        found = []
        for entry, i in index.items():
            unit = np.zeros((1, len(unknowns)))
            unit[0, i] = 1
            if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
                found.append(entry)
        return found

    def _smallest(self, entries: list[Entry]) -> Entry | None:
        """Prefer a non-zero cell (hiding a zero protects nothing), then anything."""
        cells = [e for e in entries if e[0] == "cell" and self.value[e] > 0]
        pool = cells or entries
        return min(pool, key=lambda e: (self.value[e], self.entries.index(e))) if pool else None

    def next_to_hide(self, exposed: list[Entry], hidden: set[Entry]) -> Entry | None:
        """What to hide next: on a line with a single hidden entry (subtraction recovers it)
        first; else on a line of an exposed entry; else the smallest published entry."""
        for line in self.lines:
            if sum(e in hidden for e, _c in line) == 1:
                pick = self._smallest([e for e, _c in line if e not in hidden])
                if pick is not None:
                    return pick
        for entry in exposed:
            on_its_lines = [
                e
                for line in self.lines
                if any(e == entry for e, _c in line)
                for e, _c in line
                if e not in hidden
            ]
            pick = self._smallest(on_its_lines)
            if pick is not None:
                return pick
        return self._smallest([e for e in self.entries if e not in hidden])


def suppress(
    rows: Sequence[str],
    cols: Sequence[str],
    counts: Mapping[tuple[str, str], int],
    *,
    small: int | None = None,
) -> Published:
    """The table of ``counts`` (missing cells are 0) with small counts and their complements
    hidden. ``small`` overrides the deployment's threshold (default 11: 1 to 10 hidden)."""
    limit = threshold() if small is None else small
    table = _Table(rows, cols, counts)
    hidden = {e for e, v in table.value.items() if 0 < v < limit}
    while True:
        exposed = table.determined(hidden)
        if not exposed:
            break
        extra = table.next_to_hide(exposed, hidden)
        if extra is None:  # everything is hidden: nothing can be worked out
            break
        hidden.add(extra)

    def shown(entry: Entry) -> int | None:
        return None if entry in hidden else table.value[entry]

    return Published(
        rows=table.rows,
        cols=table.cols,
        cells={(r, c): shown(("cell", r, c)) for r in table.rows for c in table.cols},
        row_totals={r: shown(("row", r)) for r in table.rows},
        col_totals={c: shown(("col", c)) for c in table.cols},
        total=shown(("total",)),
        threshold=limit,
    )


def suppress_counts(counts: Mapping[str, int], *, small: int | None = None) -> Published:
    """A one-column breakdown (e.g. youth served by gender) with its total."""
    keys = list(counts)
    return suppress(keys, ["count"], {(k, "count"): v for k, v in counts.items()}, small=small)
