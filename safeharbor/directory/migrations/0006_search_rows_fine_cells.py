"""Search rows get the grid cells of their public points at 1/16° (tokens ``_c0625_<row>_<col>``,
as ``index.cell_tokens`` makes them): the nearest-first search visits the cells around the
point, nearest first, and stops once its page and capped total are settled (see
directory/search.py, "ring"). The coarser cells (0.25°, 1°, 4°) are kept.

The tokens are appended to each row's ``document`` (rebuilding a row puts them among its other
cells: the same set). PostgreSQL: the GIN index is dropped, the rows updated in one statement
and the index built again (cheaper than updating a GIN index row by row). SQLite: the same
update through a Python function, then the FTS5 table is rebuilt from the rows and merged.

Backwards: nothing to undo; the older code ignores the extra tokens.
"""

import math

from django.db import migrations

SIZE = 0.0625
AROUND = 5760  # 360 / SIZE
ROW_OFFSET = 1000  # as index._ROW_OFFSET

PG_FORWARD = [
    "DROP INDEX IF EXISTS directory_servicesearch_gin",
    "UPDATE directory_servicesearch s SET document = s.document || c.tokens FROM ("
    "SELECT service_id, string_agg(DISTINCT ' _c0625_' "
    f"|| (floor(split_part(p, ',', 1)::float8 / {SIZE})::bigint + {ROW_OFFSET}) || '_' "
    f"|| mod(mod(floor(split_part(p, ',', 2)::float8 / {SIZE})::bigint, {AROUND}) + {AROUND}, "
    f"{AROUND}), '') AS tokens "
    "FROM directory_servicesearch, unnest(string_to_array(points, ' ')) AS p "
    "WHERE points <> '' GROUP BY service_id) c WHERE c.service_id = s.service_id",
    "SET LOCAL maintenance_work_mem = '256MB'",  # for this transaction's index build only
    "CREATE INDEX IF NOT EXISTS directory_servicesearch_gin ON directory_servicesearch "
    "USING gin (array_to_tsvector(string_to_array(document, ' ')))",
]

TOKENIZE = "tokenize = \"unicode61 remove_diacritics 2 tokenchars '_'\""
NEAR_COLUMNS = "active, minimum_age, maximum_age, more_points, x, y, z, points"
SQLITE_FORWARD = [
    "UPDATE directory_servicesearch SET document = document || sh_fine_cells(points) "
    "WHERE points <> ''",
    "CREATE VIRTUAL TABLE directory_servicesearch_fts_new USING fts5(service_id UNINDEXED, "
    + ", ".join(f"{c.strip()} UNINDEXED" for c in NEAR_COLUMNS.split(","))
    + f", body, {TOKENIZE})",
    f"INSERT INTO directory_servicesearch_fts_new (rowid, service_id, {NEAR_COLUMNS}, body) "
    "SELECT f.rowid, f.service_id, "
    + ", ".join(f"f.{c.strip()}" for c in NEAR_COLUMNS.split(","))
    + ", s.document FROM directory_servicesearch_fts f "
    "JOIN directory_servicesearch s ON s.service_id = f.service_id",
    "DROP TABLE directory_servicesearch_fts",
    "ALTER TABLE directory_servicesearch_fts_new RENAME TO directory_servicesearch_fts",
    "INSERT INTO directory_servicesearch_fts (directory_servicesearch_fts) VALUES ('optimize')",
]


def fine_cells(points):
    """ " _c0625_<row>_<col>" for each distinct cell of the points ("lat,lon lat,lon")."""
    cells = []
    for pair in (points or "").split():
        lat, _comma, lon = pair.partition(",")
        row = math.floor(float(lat) / SIZE) + ROW_OFFSET
        token = f" _c0625_{row}_{math.floor(float(lon) / SIZE) % AROUND}"
        if token not in cells:
            cells.append(token)
    return "".join(cells)


def add_fine_cells(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        statements = PG_FORWARD
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function("sh_fine_cells", 1, fine_cells, deterministic=True)
        statements = SQLITE_FORWARD
    else:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("directory", "0005_attribute_term_index_once")]

    operations = [migrations.RunPython(add_fine_cells, migrations.RunPython.noop)]
