"""Database triggers that make the audit tables append-only, for SQLite and PostgreSQL."""

from collections.abc import Iterable
from typing import Any

EVENTS = "audit_auditevent"
LISTED_YOUTH = "audit_auditlistedyouth"
# Migration 0003's per-event link table, replaced by LISTED_YOUTH in 0004.
YOUTH_LINKS = "audit_auditeventyouth"
TABLES = (EVENTS, LISTED_YOUTH)
MESSAGE = "audit events are append-only"

# SQLite trigger names are global to the database; the events table keeps its first names.
_SQLITE_PREFIX = {EVENTS: "audit", YOUTH_LINKS: "audit_link", LISTED_YOUTH: "audit_listed"}

_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
)


def _sqlite(table: str, install: bool) -> list[str]:
    prefix = _SQLITE_PREFIX[table]
    if not install:
        return [f"DROP TRIGGER IF EXISTS {prefix}_no_{verb}" for verb in ("update", "delete")]
    return [
        f"CREATE TRIGGER IF NOT EXISTS {prefix}_no_{verb} BEFORE {verb.upper()} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        for verb in ("update", "delete")
    ]


def _postgresql(table: str, install: bool) -> list[str]:
    if not install:
        return [
            f"DROP TRIGGER IF EXISTS audit_no_change ON {table}",
            f"DROP TRIGGER IF EXISTS audit_no_truncate ON {table}",
        ]
    return [
        _PG_FUNCTION,
        f"CREATE OR REPLACE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        f"CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    ]


def _statements(vendor: str, table: str, install: bool) -> list[str]:
    if vendor == "postgresql":
        return _postgresql(table, install)
    if vendor == "sqlite":
        return _sqlite(table, install)
    raise NotImplementedError(f"No append-only triggers for the {vendor} database.")


def install(connection: Any, tables: Iterable[str] = TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for sql in _statements(connection.vendor, table, install=True):
                cursor.execute(sql)


def remove(connection: Any, tables: Iterable[str] = TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for sql in _statements(connection.vendor, table, install=False):
                cursor.execute(sql)
