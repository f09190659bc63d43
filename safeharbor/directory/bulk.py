"""Writing many rows at once, for the importer and the search rows.

``upsert`` inserts rows or updates them by their key with one ``INSERT ... ON CONFLICT``: on
PostgreSQL the rows first go into a temporary table by ``COPY`` (far faster than one INSERT per
row, even pipelined) and are upserted from it in one statement; SQLite runs one prepared
statement over all of them (``executemany``). ``insert`` writes rows the caller knows to be new
(read in the same transaction): on PostgreSQL by ``COPY`` straight into the table, without the
temporary table and the second pass; a row that is there after all (a concurrent writer) makes
the database refuse the statement, and with it the caller's transaction. Values must already be
what the driver takes (``connection.ops.adapt_*``; UUIDs as hex on SQLite). Table and column
names come from model metadata, never from input.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection

COPY_NAME_PREFIX = "bulk_"
SQLITE_WRITE_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def sqlite_write_cache() -> Iterator[None]:
    """On SQLite, a page cache of up to 256 MiB for a big write, then back to what it was.
    With the default 2 MiB, every row's index entries (random UUIDs) meet pages that were
    just evicted, and a long transaction spills dirty pages to the journal again and again:
    importing 10,000 services into 60,000 took a fifth more CPU and a third more time."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def present(
    table: str, column: str, ids: Iterable[uuid.UUID], *, where: str = ""
) -> set[uuid.UUID]:
    """Which of these UUIDs ``column`` of ``table`` holds (in rows meeting ``where``, a fixed
    condition of our own code, never input)."""
    found = present_hex(table, column, [i.hex for i in ids], where=where)
    return {uuid.UUID(hex=value) for value in found}


def present_hex(table: str, column: str, ids: Iterable[str], *, where: str = "") -> set[str]:
    """``present`` for UUIDs written as 32 lower-case hex digits (how the importer keeps ids,
    and how SQLite stores them), answered the same way. One statement, whatever the number:
    the ids go as one parameter, a list the database unpacks itself (on PostgreSQL an array
    literal, on SQLite a JSON array read by ``json_each``): binding each id as a parameter of
    its own was most of an import's reads. The ids are ours (``importer._uuid_hex`` or
    ``UUID.hex``), never raw input: only [0-9a-f] go into the list. ``where`` is a fixed
    condition of our own code, never input."""
    wanted = ids if isinstance(ids, list | tuple | set) else list(ids)
    if not wanted:
        return set()
    quote = connection.ops.quote_name
    condition = f" AND {where}" if where else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Only [0-9a-f] and commas in the literal; the server parses it faster than the
            # driver adapts a list of UUIDs.
            cursor.execute(
                f"SELECT DISTINCT {quote(column)} FROM {quote(table)} "  # noqa: S608
                f"WHERE {quote(column)} = ANY(%s::uuid[]){condition}",
                ["{" + ",".join(wanted) + "}"],
            )
            return {value.hex for (value,) in cursor.fetchall()}
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(table)} "  # noqa: S608
            f"WHERE {quote(column)} IN (SELECT value FROM json_each(%s)){condition}",
            ['["' + '","'.join(wanted) + '"]'],
        )
        return {value for (value,) in cursor.fetchall()}


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
            _copy(cursor, f"COPY {stage} ({names}) FROM STDIN", rows)
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


def insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``rows`` (tuples in ``columns`` order), none of which is in ``table`` yet."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, f"COPY {quote(table)} ({names}) FROM STDIN", rows)
            return
        cursor.executemany(
            f"INSERT INTO {quote(table)} ({names}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            rows if isinstance(rows, list) else list(rows),
        )


def _copy(cursor: Any, statement: str, rows: Iterable[Sequence[Any]]) -> None:
    """``COPY ... FROM STDIN`` through psycopg's own cursor, its errors raised as Django's
    (``DatabaseError`` and kin), as every other statement's are."""
    with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
