"""The full-text index of services, each database its own way (see directory/search.py).

SQLite: an FTS5 table holding each service's search text (kept by search.sync_index).
PostgreSQL: pg_trgm, a GIN index on to_tsvector('simple', search_text), and a trigram GIN
index on the search words (typo correction).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

SQLITE_FORWARD = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS directory_service_fts USING fts5("
    "service_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')"
)
SQLITE_BACKWARD = "DROP TABLE IF EXISTS directory_service_fts"
PG_FORWARD = (
    "CREATE INDEX IF NOT EXISTS directory_service_search_gin ON directory_service "
    "USING gin (to_tsvector('simple', search_text))",
    "CREATE INDEX IF NOT EXISTS directory_searchword_trgm ON directory_searchword "
    "USING gin (word gin_trgm_ops)",
)
PG_BACKWARD = (
    "DROP INDEX IF EXISTS directory_service_search_gin",
    "DROP INDEX IF EXISTS directory_searchword_trgm",
)


class OnlyOn(migrations.RunSQL):
    """RunSQL that runs only on one database vendor."""

    def __init__(self, vendor, sql, reverse_sql):
        self.vendor = vendor
        super().__init__(sql, reverse_sql)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_hsds_directory")]

    operations = [
        TrigramExtension(),  # does nothing on other databases
        OnlyOn("sqlite", [SQLITE_FORWARD], [SQLITE_BACKWARD]),
        OnlyOn("postgresql", list(PG_FORWARD), list(PG_BACKWARD)),
    ]
