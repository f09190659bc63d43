"""Writing many rows at once, for the importer and the search rows.

``upsert`` inserts rows or updates them by their key with one ``INSERT ... ON CONFLICT``: on
PostgreSQL the rows first go into a temporary table by ``COPY`` (far faster than one INSERT per
row, even pipelined) and are upserted from it in one statement; SQLite runs one prepared
statement over all of them (``executemany``). Values must already be what the driver takes
(``connection.ops.adapt_*``; UUIDs as hex on SQLite). Table and column names come from model
metadata, never from input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

COPY_NAME_PREFIX = "bulk_"


def upsert(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    key: str,
    update: Sequence[str],
) -> None:
    """Write ``rows`` (tuples in ``columns`` order) into ``table``; a row whose ``key`` is
    already there has the ``update`` columns overwritten, the others kept."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    conflict = f"ON CONFLICT ({quote(key)}) DO " + (
        "UPDATE SET " + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update)
        if update
        else "NOTHING"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            stage = quote(COPY_NAME_PREFIX + table)
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {stage} AS "  # noqa: S608
                f"SELECT {names} FROM {quote(table)} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {stage} {conflict}"  # noqa: S608
            )
            cursor.execute(f"DROP TABLE {stage}")
            return
        cursor.executemany(
            f"INSERT INTO {quote(table)} ({names}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))}) {conflict}",
            rows if isinstance(rows, list) else list(rows),
        )
