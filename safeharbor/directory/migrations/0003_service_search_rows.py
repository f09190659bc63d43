"""Search rows (``ServiceSearch``, built by ``directory/index.py``) replace the search text on
the service: one full-text match answers the words and the set-like filters (see index.py).

SQLite: the FTS5 table ``directory_servicesearch_fts`` (its tokenizer keeps "_" inside tokens)
replaces ``directory_service_fts``. PostgreSQL: a GIN index on
``array_to_tsvector(string_to_array(document, ' '))`` replaces the one on the service's text.
Existing services get their rows at the end (the rows are derived data, built by the code that
searches them).
"""

import django.db.models.deletion
from django.db import migrations, models


SQLITE_FORWARD = [
    "DROP TABLE IF EXISTS directory_service_fts",
    "CREATE VIRTUAL TABLE IF NOT EXISTS directory_servicesearch_fts USING fts5("
    "service_id UNINDEXED, body, "
    "tokenize = \"unicode61 remove_diacritics 2 tokenchars '_'\")",
]
SQLITE_BACKWARD = [
    "DROP TABLE IF EXISTS directory_servicesearch_fts",
    "CREATE VIRTUAL TABLE IF NOT EXISTS directory_service_fts USING fts5("
    "service_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')",
]
PG_FORWARD = [
    "DROP INDEX IF EXISTS directory_service_search_gin",
    "CREATE INDEX IF NOT EXISTS directory_servicesearch_gin ON directory_servicesearch "
    "USING gin (array_to_tsvector(string_to_array(document, ' ')))",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS directory_servicesearch_gin"]


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


def build_rows(apps, schema_editor):
    Service = apps.get_model("directory", "Service")
    if not Service.objects.using(schema_editor.connection.alias).exists():
        return
    # Derived data: built by the same code that searches it (manage.py reindex_directory).
    from safeharbor.directory import index

    index.rebuild_all()


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0002_search_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='ServiceSearch',
            fields=[
                ('service', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_row', serialize=False, to='directory.service')),
                ('active', models.BooleanField(default=True)),
                ('minimum_age', models.FloatField(blank=True, null=True)),
                ('maximum_age', models.FloatField(blank=True, null=True)),
                ('genders', models.TextField(blank=True)),
                ('languages', models.TextField(blank=True)),
                ('terms', models.TextField(blank=True)),
                ('free', models.BooleanField(default=False)),
                ('capacity_available', models.BooleanField(default=False)),
                ('exploited_youth', models.BooleanField(default=False)),
                ('open_24_7', models.BooleanField(default=False)),
                ('organization_id', models.UUIDField(blank=True, null=True)),
                ('last_modified', models.DateTimeField(blank=True, null=True)),
                ('points', models.TextField(blank=True)),
                ('text', models.TextField(blank=True)),
                ('document', models.TextField(blank=True)),
            ],
            options={
                'verbose_name': 'search row',
            },
        ),
        migrations.RemoveField(
            model_name='service',
            name='search_text',
        ),
        OnlyOn("sqlite", SQLITE_FORWARD, SQLITE_BACKWARD),
        OnlyOn("postgresql", PG_FORWARD, PG_BACKWARD),
        migrations.RunPython(build_rows, migrations.RunPython.noop, elidable=True),
    ]
