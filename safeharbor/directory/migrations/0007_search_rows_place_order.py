"""PostgreSQL: an index that orders the search rows by place (the 1/16° cell of the first public
point, row by row), for ``index.optimize`` to rewrite the table in that order (``CLUSTER``).

A distance search reads the services of a few neighbouring cells (search.py, "the ring"). The
GIN index lists each token's rows in the table's physical order, so when those services lie
together in the table the full-text engine reads the long lists of frequent tokens (free,
a language, a common word) only around them, instead of from end to end.

SQLite: nothing here (its full-text rows are numbered by place: migration 0008).
"""

from django.db import migrations

PLACE = (
    "CREATE INDEX IF NOT EXISTS directory_servicesearch_place ON directory_servicesearch "
    "((floor(degrees(asin(z)) * 16)), (floor(degrees(atan2(y, x)) * 16)))"
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
