"""PostgreSQL: an index that orders the search rows by place, ``index.place_number`` of their
points (the 1/16° cell of the first public point, numbered row by row; rows without one last),
for ``index.optimize`` to rewrite the table in that order (``CLUSTER``). Imports write new rows
in the same order.

A distance search reads the services of a few neighbouring cells. The GIN index lists each
token's rows in the table's physical order, so when those services lie together in the table
the full-text engine reads the long lists of frequent tokens (free, a language, a common word)
only around them, instead of from end to end.

SQLite: nothing here (its full-text rows are numbered by place: migration 0008).
"""

from django.db import migrations

# ``index.place_number`` in SQL (a test compares the two): row = floor(lat / size) + 1440,
# clamped to 0..2879; column = floor(lon / size) mod 5760, never negative; NULL without points.
_FIRST = "split_part(points, ' ', 1)"
_LAT = f"NULLIF(split_part({_FIRST}, ',', 1), '')::float8"
_LON = f"NULLIF(split_part({_FIRST}, ',', 2), '')::float8"
PLACE_NUMBER_SQL = (
    f"least(greatest(floor({_LAT} / 0.0625)::bigint + 1440, 0), 2879) * 5760 "
    f"+ mod(mod(floor({_LON} / 0.0625)::bigint, 5760) + 5760, 5760)"
)
PLACE = (
    "CREATE INDEX IF NOT EXISTS directory_servicesearch_place ON directory_servicesearch "
    f"(({PLACE_NUMBER_SQL}))"
)


def add_place_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLACE)


def remove_place_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS directory_servicesearch_place")


class Migration(migrations.Migration):
    dependencies = [("directory", "0006_search_rows_fine_cells")]

    operations = [migrations.RunPython(add_place_index, remove_place_index)]
