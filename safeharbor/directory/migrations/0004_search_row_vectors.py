"""Distance by plain SQL arithmetic: each search row gets its first public point on the unit
sphere (``x``, ``y``, ``z``) and whether it has more (``more_points``), so a distance search
counts and sorts its matches in the database instead of reading every match's points into
Python (see directory/search.py).

SQLite: the full-text table also holds, unindexed, what a distance search reads per match
(active, the ages, the points and the vector), so that such a search reads one row per match,
not the full-text row and then the search row.
"""

import math

from django.db import migrations, models

TOKENIZE = "tokenize = \"unicode61 remove_diacritics 2 tokenchars '_'\""
NEAR_COLUMNS = "active, minimum_age, maximum_age, more_points, x, y, z, points"
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE directory_servicesearch_fts_new USING fts5(service_id UNINDEXED, "
    + ", ".join(f"{c.strip()} UNINDEXED" for c in NEAR_COLUMNS.split(","))
    + f", body, {TOKENIZE})",
    f"INSERT INTO directory_servicesearch_fts_new (rowid, service_id, {NEAR_COLUMNS}, body) "
    "SELECT f.rowid, f.service_id, "
    + ", ".join(f"s.{c.strip()}" for c in NEAR_COLUMNS.split(","))
    + ", f.body FROM directory_servicesearch_fts f "
    "JOIN directory_servicesearch s ON s.service_id = f.service_id",
    "DROP TABLE directory_servicesearch_fts",
    "ALTER TABLE directory_servicesearch_fts_new RENAME TO directory_servicesearch_fts",
]
SQLITE_BACKWARD = [
    f"CREATE VIRTUAL TABLE directory_servicesearch_fts_old USING fts5(service_id UNINDEXED, "
    f"body, {TOKENIZE})",
    "INSERT INTO directory_servicesearch_fts_old (rowid, service_id, body) "
    "SELECT rowid, service_id, body FROM directory_servicesearch_fts",
    "DROP TABLE directory_servicesearch_fts",
    "ALTER TABLE directory_servicesearch_fts_old RENAME TO directory_servicesearch_fts",
]
CHUNK = 5000


class OnlyOn(migrations.RunSQL):
    """RunSQL that runs only on one database vendor (as in 0002)."""

    def __init__(self, vendor, sql, reverse_sql):
        self.vendor = vendor
        super().__init__(sql, reverse_sql)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def _vector(points):
    first = points.split()[0]
    lat, _comma, lon = first.partition(",")
    phi, lam = math.radians(float(lat)), math.radians(float(lon))
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


def fill_vectors(apps, schema_editor):
    """The vectors of rows that have points (as ``index.unit_vector`` makes them)."""
    ServiceSearch = apps.get_model("directory", "ServiceSearch")
    alias = schema_editor.connection.alias
    rows = ServiceSearch.objects.using(alias).exclude(points="").order_by("pk")
    last = None
    while True:
        page = rows if last is None else rows.filter(pk__gt=last)
        chunk = list(page.values_list("pk", "points")[:CHUNK])
        if not chunk:
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE directory_servicesearch SET x = %s, y = %s, z = %s, more_points = %s "
                "WHERE service_id = %s",
                [
                    (*_vector(points), len(points.split()) > 1, _key(schema_editor, pk))
                    for pk, points in chunk
                ],
            )
        last = chunk[-1][0]


def _key(schema_editor, pk):
    return pk.hex if schema_editor.connection.vendor == "sqlite" else pk


class Migration(migrations.Migration):
    dependencies = [("directory", "0003_service_search_rows")]

    operations = [
        migrations.AddField(
            model_name="servicesearch",
            name="x",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="servicesearch",
            name="y",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="servicesearch",
            name="z",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="servicesearch",
            name="more_points",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fill_vectors, migrations.RunPython.noop, elidable=True),
        OnlyOn("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
    ]
