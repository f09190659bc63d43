"""SQLite: the full-text rows are renumbered by place (``index.fts_base``: the 1/16° cell of the
first public point, row by row, then 39 bits of the service's id), so that the rows a distance
search reads lie together in every token's list (see index.fts_base). Services of one cell
sharing a base take the next rowids of its window, in id order.

The table is rebuilt (FTS5 lists cannot be renumbered in place), in rowid order, then merged.
Backwards: the rows go back to the older numbering (63 bits of the id). PostgreSQL: nothing
(its rows are put in place order by ``index.optimize``, migration 0007).
"""

import uuid

from django.db import migrations

TOKENIZE = "tokenize = \"unicode61 remove_diacritics 2 tokenchars '_'\""
COLUMNS = "service_id, active, minimum_age, maximum_age, more_points, x, y, z, points"


def _renumber(schema_editor, number, rowid_sql: str) -> None:
    """Rebuild the table with each row at ``rowid_sql``, where ``sh_fts_number`` is ``number``."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    connection.connection.create_function("sh_fts_number", -1, number, deterministic=True)
    unindexed = ", ".join(f"{c.strip()} UNINDEXED" for c in COLUMNS.split(","))
    statements = [
        "CREATE VIRTUAL TABLE directory_servicesearch_fts_new USING fts5("
        f"{unindexed}, body, {TOKENIZE})",
        f"INSERT INTO directory_servicesearch_fts_new (rowid, {COLUMNS}, body) "
        f"SELECT {rowid_sql} AS new_rowid, {COLUMNS}, body "
        "FROM directory_servicesearch_fts ORDER BY new_rowid",
        "DROP TABLE directory_servicesearch_fts",
        "ALTER TABLE directory_servicesearch_fts_new RENAME TO directory_servicesearch_fts",
        "INSERT INTO directory_servicesearch_fts (directory_servicesearch_fts) VALUES ('optimize')",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def by_place(apps, schema_editor):
    from safeharbor.directory import index  # derived data: numbered as the code numbers it

    _renumber(
        schema_editor,
        lambda hex_id, points: index.fts_base(uuid.UUID(hex_id), points or ""),
        "sh_fts_number(service_id, points) - 1 + row_number() OVER "
        "(PARTITION BY sh_fts_number(service_id, points) ORDER BY service_id)",
    )


def by_id(apps, schema_editor):
    _renumber(
        schema_editor, lambda hex_id: uuid.UUID(hex_id).int >> 65, "sh_fts_number(service_id)"
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0007_search_rows_place_order")]

    operations = [migrations.RunPython(by_place, by_id)]
